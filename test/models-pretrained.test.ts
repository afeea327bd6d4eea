import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createModel, loadPretrained, loadWeightsFile, adaptInputConv } from '../src/models/index.js';
import { TlcvError } from '../src/errors.js';
import { disposeAll, keep, liveTensors, manualSeed, noGrad, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { runPeer } from './helpers/peer.js';

const logitsOf = (model: ReturnType<typeof createModel>, x: Tensor): Tensor => noGrad(() => model.eval().forward(x));

test('a torchvision .pth loads unchanged and gives torchvision\'s logits', async () => {
  const before = liveTensors().count;
  const peer = runPeer('models_pth.py', ['mobilenet_v2_035', '1']);
  const t = peer.tensors;
  const pth = join(peer.dir, 'mobilenet_v2_035.pth');
  const model = createModel('mobilenet_v2_035');
  const logs: string[] = [];
  try {
    const report = await loadWeightsFile(model, pth, { log: (m) => logs.push(m) });
    assert.deepEqual(report.droppedClassifier, []);
    assert.equal(report.adaptedFirstConv, null);
    assert.equal(report.loaded.length, model.stateDict().size);
    assert.equal(logs.length, 0, 'nothing to say when everything fits');
    tidy(() => assertClose(logitsOf(model, t.get('x')!), t.get('logits')!, { rtol: 1e-4, atol: 1e-4, what: 'logits after loading the .pth' }));
  } finally {
    model.dispose();
  }

  // Gray input, 10 classes: the first conv is summed over RGB, the classifier starts afresh.
  manualSeed(0);
  const gray = createModel('mobilenet_v2_035', { numClasses: 10, inChannels: 1 });
  const fc = tidy(() => keep(gray.getSubmodule('classifier.1').parameters()[0]!.clone()));
  logs.length = 0;
  try {
    const report = await loadWeightsFile(gray, pth, { log: (m) => logs.push(m) });
    assert.deepEqual(report.droppedClassifier, ['classifier.1.weight', 'classifier.1.bias']);
    assert.deepEqual(report.adaptedFirstConv, { name: 'features.0.0.weight', from: [16, 3, 3, 3], to: [16, 1, 3, 3] });
    assert.ok(logs.some((m) => /classifier classifier\.1 .*\[1000, 1280\].*10 classes; left it freshly initialised/.test(m)), logs.join('\n'));
    assert.ok(logs.some((m) => /first conv features\.0\.0\.weight adapted from 3 to 1 input channels \(summed/.test(m)), logs.join('\n'));
    assertClose(gray.getSubmodule('classifier.1').parameters()[0]!, fc, { rtol: 0, atol: 0, what: 'the new classifier keeps its init' });
    tidy(() => assert.deepEqual(logitsOf(gray, t.get('gray')!).shape, [2, 10]));
  } finally {
    fc.dispose();
    gray.dispose();
    disposeAll(t);
  }
  assert.equal(liveTensors().count, before);
});

test('1-channel adaptation keeps the function: gray through the adapted net equals gray-as-RGB through the original', async () => {
  const before = liveTensors().count;
  const peer = runPeer('models_pth.py', ['resnet18', '2']);
  const t = peer.tensors;
  const gray = createModel('resnet18', { inChannels: 1 });
  try {
    const report = await loadWeightsFile(gray, join(peer.dir, 'resnet18.pth'));
    assert.deepEqual(report.adaptedFirstConv?.to, [64, 1, 7, 7]);
    tidy(() => assertClose(logitsOf(gray, t.get('gray')!), t.get('gray_logits')!, { rtol: 1e-4, atol: 1e-4, what: 'gray logits' }));
  } finally {
    gray.dispose();
    disposeAll(t);
  }
  assert.equal(liveTensors().count, before);
});

test('other channel counts repeat the RGB filters and scale by 3/c', () => {
  tidy(() => {
    const src = createModel('resnet18', { numClasses: 3 });
    const four = createModel('resnet18', { numClasses: 3, inChannels: 4 });
    try {
      const logs: string[] = [];
      loadPretrained(four, src.stateDict(), { log: (m) => logs.push(m) });
      const w = four.getSubmodule('conv1').parameters()[0]!;
      const s = src.getSubmodule('conv1').parameters()[0]!;
      assertClose(w.slice(1, 0, 3), s.mul(3 / 4), { rtol: 1e-6, atol: 1e-7, what: 'channels 0-2' });
      assertClose(w.slice(1, 3, 4), s.slice(1, 0, 1).mul(3 / 4), { rtol: 1e-6, atol: 1e-7, what: 'channel 3 repeats channel 0' });
      assert.ok(logs.some((m) => /repeated over 4 channels and scaled by 3\/4/.test(m)));
      assert.deepEqual(adaptInputConv(s, 1).shape, [64, 1, 7, 7]);
    } finally {
      src.dispose();
      four.dispose();
    }
  });
});

test('weights of another architecture are refused before anything is copied, naming keys and shapes', async () => {
  const before = liveTensors().count;
  const r50 = createModel('resnet50', { numClasses: 2 });
  const r18 = createModel('resnet18', { numClasses: 2 });
  const w = tidy(() => keep(r18.getSubmodule('layer1.0.conv1').parameters()[0]!.clone()));
  try {
    assert.throws(
      () => loadPretrained(r18, r50.stateDict()),
      (e: unknown) =>
        e instanceof TlcvError &&
        e.code === 'WEIGHTS' &&
        /unexpected keys: .*layer1\.0\.conv3\.weight/.test(e.message) &&
        /layer1\.0\.conv1\.weight \(model \[64, 64, 3, 3\], file \[64, 64, 1, 1\]\)/.test(e.message),
    );
    tidy(() => assertClose(r18.getSubmodule('layer1.0.conv1').parameters()[0]!, w, { rtol: 0, atol: 0, what: 'untouched' }));
    // Weights without num_batches_tracked (as some converters write them) still load.
    const partial = new Map([...r18.stateDict()].filter(([k]) => !k.endsWith('num_batches_tracked')));
    const logs: string[] = [];
    const report = loadPretrained(r18, partial, { log: (m) => logs.push(m) });
    assert.equal(report.defaulted.length, 20);
    assert.ok(logs.some((m) => /20 num_batches_tracked/.test(m)));
    await assert.rejects(loadWeightsFile(r18, 'weights.onnx'), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /weights\.onnx/.test(e.message));
  } finally {
    w.dispose();
    r50.dispose();
    r18.dispose();
  }
  assert.equal(liveTensors().count, before);
});
