// The zoo entries of issue 20's CNNs against what torchvision 0.14 says about each model's
// DEFAULT weights (test/peer/zoo_weights.py reads `weights.transforms()` and `meta` now): the
// URL, the input size (the eval crop), cropPct = crop / resize and the resize kernel, the
// photo preprocessing resolveDataConfig derives from them, and the parameter count. Then a
// torchvision checkpoint of each family (torch.save of its state_dict, test/peer/models_pth.py)
// loads as it is and gives torchvision's logits, and loads into a gray, 10-class model too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { createModel, getModelConfig, loadWeightsFile } from '../src/models/index.js';
import { resolveDataConfig, storedSize } from '../src/data/index.js';
import { disposeAll, liveTensors, noGrad, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { runPeer } from './helpers/peer.js';

const MODELS = ['efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3', 'efficientnet_v2_s', 'mobilenet_v3_small', 'mobilenet_v3_large', 'regnet_y_400mf', 'regnet_y_1_6gf'];
// Ported from timm, torchvision 0.14's files for these carry a name whose hex is not their sha256.
const FULL_SHA256 = new Set(['efficientnet_b0', 'efficientnet_b2', 'efficientnet_b3']);

interface TorchvisionWeights {
  weights: string;
  url: string;
  crop: number;
  resize: number;
  interpolation: string;
  num_params: number;
}

const peer = runPeer('zoo_weights.py', MODELS);
const tv = peer.meta as unknown as Record<string, TorchvisionWeights>;

for (const name of MODELS) {
  test(`${name}: weights, input size, crop and resize kernel as torchvision's ${tv[name]!.weights} says`, () => {
    const w = tv[name]!;
    const c = getModelConfig(name);
    assert.equal(c.pretrained?.url, w.url);
    assert.equal(c.pretrained.file, basename(w.url));
    const hex = c.pretrained.file.slice(-12, -4);
    if (FULL_SHA256.has(name)) assert.match(c.pretrained.sha256 ?? '', /^[0-9a-f]{64}$/);
    else assert.equal(c.pretrained.sha256, hex, 'the 8-hex prefix in the file name');
    assert.deepEqual(c.inputSize, [3, w.crop, w.crop]);
    assert.equal(c.cropPct, w.crop / w.resize);
    assert.equal(c.interpolation, w.interpolation);
    // What a photo gets by default: resized to `resize`, centre-cropped to `crop`, with the weights' kernel.
    const prep = resolveDataConfig({ model: c });
    assert.deepEqual([prep.inputSize, prep.interpolation, prep.cropPct], [[3, w.crop, w.crop], w.interpolation, w.crop / w.resize]);
    assert.deepEqual(storedSize(w.crop, w.crop, prep), [w.resize, w.resize]);
    const live = liveTensors().count;
    const model = createModel(name);
    assert.equal(model.numParameters(), w.num_params);
    model.dispose();
    assert.equal(liveTensors().count, live);
  });
}

for (const [name, firstConv, seed] of [
  ['efficientnet_b0', 'features.0.0', 3],
  ['mobilenet_v3_small', 'features.0.0', 4],
  ['regnet_y_400mf', 'stem.0', 5],
] as const) {
  test(`${name}: a torchvision .pth loads unchanged with torchvision's logits; gray and 10 classes adapt the first conv and drop the classifier`, async () => {
    const live = liveTensors().count;
    const run = runPeer('models_pth.py', [name, String(seed)]);
    const t = run.tensors;
    const pth = join(run.dir, `${name}.pth`);
    const rgb = createModel(name);
    const gray = createModel(name, { inChannels: 1 });
    const small = createModel(name, { numClasses: 10 });
    try {
      const r = await loadWeightsFile(rgb, pth);
      assert.deepEqual([r.loaded.length, r.droppedClassifier, r.adaptedFirstConv], [rgb.stateDict().size, [], null]);
      // Relative to the largest logit: a fresh classifier's logits are small (MobileNetV3's ~0.01).
      const near = (ref: string): { rtol: number; atol: number } => ({ rtol: 1e-4, atol: 1e-4 * tidy(() => t.get(ref)!.abs().max().item()) });
      tidy(() => assertClose(noGrad(() => rgb.eval().forward(t.get('x')!)), t.get('logits')!, { ...near('logits'), what: 'logits after loading the .pth' }));
      const g = await loadWeightsFile(gray, pth);
      assert.equal(g.adaptedFirstConv?.name, `${firstConv}.weight`);
      tidy(() => assertClose(noGrad(() => gray.eval().forward(t.get('gray')!)), t.get('gray_logits')!, { ...near('gray_logits'), what: 'gray through the adapted conv' }));
      const s = await loadWeightsFile(small, pth);
      const cls = small.config.classifier;
      assert.deepEqual(s.droppedClassifier, [`${cls}.weight`, `${cls}.bias`]);
    } finally {
      [rgb, gray, small].forEach((m) => m.dispose());
      disposeAll(t);
    }
    assert.equal(liveTensors().count, live);
  });
}
