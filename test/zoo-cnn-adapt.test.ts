// AdaBN and a few-shot head on the new CNNs. AdaBN on EfficientNet-B0: afterwards each of its 49
// BatchNorms holds the per-channel statistics of its own input over the target set, as a forward
// with the BatchNorms in train mode (and everything else in eval mode: no stochastic depth, no
// dropout) shows them. ncm on MobileNetV3-Small: the head stands on classifier.3's input (the
// 1024-d pre-logits) and the installed model predicts what the nearest-class-mean rule says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { BatchNorm2d, type Module } from '../src/nn/index.js';
import { traceForwards } from '../src/nn/fold-state.js';
import { DataLoader, type ImageDataset } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { adaptBatchNorm } from '../src/transfer/adapt/index.js';
import { extractFeatures, fitFewShotHead, fitNcm, ncmNearest } from '../src/transfer/heads/index.js';
import { disposeAll, keep, liveTensors, manualSeed, noGrad, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { brightnessDataset } from './helpers/bright-images.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
const loader = (model: ClassifierModel, ds: ImageDataset, batchSize: number): DataLoader => new DataLoader(ds, { batchSize, mean: model.config.mean, std: model.config.std });

test('efficientnet_b0: adabn gives every BatchNorm the target set\'s statistics of its own input', async () => {
  const live = liveTensors().count;
  manualSeed(41);
  const model = createModel('efficientnet_b0', { numClasses: 3, inputSize: [32, 32] });
  const ds = brightnessDataset(16, 32, 99);
  try {
    const r = await adaptBatchNorm(model, loader(model, ds, 16), fp32);
    assert.deepEqual(r, { layers: 49, batches: 1, images: 16 });
    const norms = new Map([...model.namedModules()].filter((e): e is [string, BatchNorm2d] => e[1] instanceof BatchNorm2d).map(([p, m]) => [m as Module, p]));
    const adapted = new Map([...norms.values()].map((p) => [p, tidy(() => [model.getSubmodule(p).namedBuffers().get('running_mean')!.clone().keep(), model.getSubmodule(p).namedBuffers().get('running_var')!.clone().keep()])]));
    const seen = new Map<string, [Tensor, Tensor]>();
    model.eval();
    for (const bn of norms.keys()) bn.train();
    tidy(() => {
      const [x] = [...loader(model, ds, 16)].map((b) => b.x);
      noGrad(() =>
        traceForwards(
          (m, input) => {
            const path = norms.get(m);
            // Per-channel mean and unbiased variance, as BatchNorm keeps them.
            if (path !== undefined) seen.set(path, [keep(input.mean([0, 2, 3])), keep(input.transpose(0, 1).flatten(1).std(1, true).pow(2))]);
          },
          () => model.forward(x!),
        ),
      );
    });
    model.eval();
    assert.equal(seen.size, 49, 'every BatchNorm ran');
    for (const [path, [mean, variance]] of seen) {
      const [runningMean, runningVar] = adapted.get(path)!;
      assertClose(runningMean!, mean, { rtol: 1e-4, atol: 1e-5, what: `${path}.running_mean` });
      assertClose(runningVar!, variance, { rtol: 1e-3, atol: 1e-6, what: `${path}.running_var` });
    }
    disposeAll([...seen.values()].flat());
    disposeAll([...adapted.values()].flat());
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, live);
});

test('mobilenet_v3_small: an ncm head on the 1024-d pre-logits predicts what the distance rule says', async () => {
  const live = liveTensors().count;
  manualSeed(42);
  const model = createModel('mobilenet_v3_small', { numClasses: 1000, inputSize: [64, 64] });
  const support = brightnessDataset(15, 64, 3);
  const queries = brightnessDataset(12, 64, 4);
  try {
    await adaptBatchNorm(model, loader(model, support, 15), fp32);
    const r = await fitFewShotHead(model, { mode: 'ncm', support: loader(model, support, 8), numClasses: 3, plan: fp32 });
    assert.deepEqual([r.supportImages, r.featureDim, r.centeredOn], [15, 1024, 'support']);
    assert.equal(model.numClasses, 3);
    assert.deepEqual(model.getSubmodule('classifier.3').parameters()[0]!.shape, [3, 1024]);
    // The rule, from features extracted the same way, against the installed model's argmax.
    const s = await extractFeatures(model, loader(model, support, 8), fp32);
    const q = await extractFeatures(model, loader(model, queries, 8), fp32);
    const head = fitNcm(s.features, s.labels, 3);
    const rule = [...ncmNearest(q.features, head)];
    const viaModel = tidy(() => [...loader(model, queries, 8)].flatMap((b) => noGrad(() => model.forward(b.x)).argmax(1).toFlatArray()));
    assert.deepEqual(viaModel, rule);
    assert.ok(new Set(rule).size > 1, `more than one class predicted (${rule.join(', ')})`);
    disposeAll([s.features, q.features, head]);
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, live);
});
