// ncm (SimpleShot's nearest class mean as a Linear head): class means checked against means
// worked out by hand, the Linear head's argmax equal to the distance rule, the same numbers as
// the PyTorch peer (peers/ncm.py) on the same features, a model folder that loads and predicts
// as any other, and clear errors for a class without support images (determinism:
// fewshot-determinism.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataLoader, type ImageDataset, legacyPreprocess } from '../src/data/index.js';
import { createModel } from '../src/models/index.js';
import { loadModelFolder, saveModelFolder } from '../src/runs/index.js';
import { TlcvError } from '../src/errors.js';
import { planExecution, predictImages, withPlan } from '../src/execution/index.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { extractFeatures, fitFewShotHead, fitNcm, ncmNearest } from '../src/transfer/heads/index.js';
import { disposeAll, F, fromTypedArray, liveTensors, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { PEER_PYTHON, readPeerDir, writePeerInput } from './helpers/peer.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
const labelsOf = (a: number[]): Int32Array => Int32Array.from(a);
const argmax = (logits: Tensor): number[] => tidy(() => logits.argmax(1).toFlatArray());

test('class means are the means of the centred unit-length features, as worked out by hand', async () => {
  const before = liveTensors().count;
  // Class 0: (3, 4) and (0, 5); class 1: (5, 0) and (4, -3). Centred on the origin their unit
  // vectors are (0.6, 0.8), (0, 1) and (1, 0), (0.8, -0.6): means (0.3, 0.9) and (0.9, -0.3).
  tidy(() => {
    const x = tensor([[3, 4], [0, 5], [5, 0], [4, -3]]);
    const head = fitNcm(x, labelsOf([0, 0, 1, 1]), 2, { center: tensor([0, 0]), temperature: 2 });
    assertClose(head.classMeans, tensor([[0.3, 0.9], [0.9, -0.3]]), { atol: 1e-7, what: 'class means' });
    assertClose(head.center, tensor([0, 0]), { atol: 0, what: 'centre' });
    // Every |x| is 5, so the scale is 2 / 5; W rows are that times the unit class means.
    const unit = Math.sqrt(0.9);
    assert.ok(Math.abs(head.scale - 0.4) < 1e-12);
    assertClose(head.weight, tensor([[0.3 / unit, 0.9 / unit], [0.9 / unit, -0.3 / unit]]).mul(0.4), { atol: 1e-7, what: 'weight' });
    assertClose(head.bias, tensor([0, 0]), { atol: 1e-7, what: 'bias' });
    disposeAll(head);

    // Without a centre: the support mean (3, 1.5); (3, 4) - (3, 1.5) = (0, 2.5) -> (0, 1), and so on.
    const centred = fitNcm(x, labelsOf([0, 0, 1, 1]), 2);
    assertClose(centred.center, tensor([3, 1.5]), { atol: 1e-7, what: 'support mean' });
    const u = (a: number, b: number): number[] => [a / Math.hypot(a, b), b / Math.hypot(a, b)];
    const [a, b, c, d] = [u(0, 2.5), u(-3, 3.5), u(2, -1.5), u(1, -4.5)];
    const expected = tensor([[(a[0]! + b[0]!) / 2, (a[1]! + b[1]!) / 2], [(c[0]! + d[0]!) / 2, (c[1]! + d[1]!) / 2]]);
    assertClose(centred.classMeans, expected, { atol: 1e-7, what: 'class means around the support mean' });
    // The bias moves the Linear head's origin to the centre: W (x - centre) = W x + b.
    assertClose(centred.bias, centred.weight.matmul(tensor([3, 1.5])).neg(), { atol: 1e-6, what: 'bias' });
    disposeAll(centred);
  });
  assert.equal(liveTensors().count, before);
});

test('the Linear head gives the argmax of the distance rule', async () => {
  manualSeed(11);
  tidy(() => {
    // Five classes around random directions in 16-d, plus a source mean that is not the support's.
    const directions = randn([5, 16]).mul(2);
    const labels = Int32Array.from({ length: 60 }, (_, i) => i % 5);
    const index = fromTypedArray(labels, [60]).long();
    const support = directions.indexSelect(0, index).add(randn([60, 16]));
    const queries = randn([400, 16]).mul(1.5).add(directions.mean(0));
    for (const center of [undefined, randn([16])]) {
      const head = fitNcm(support, labels, 5, center ? { center } : {});
      const rule = [...ncmNearest(queries, head)];
      const linear = argmax(F.linear(queries, head.weight, head.bias));
      assert.deepEqual(linear, rule, 'same class for every query');
      assert.ok(new Set(rule).size === 5, 'every class is predicted somewhere (the check is not vacuous)');
      disposeAll(head);
    }
  });
});

test('installed in a model, ncm predicts what the distance rule says, and evaluates as any head', async () => {
  const before = liveTensors().count;
  manualSeed(12);
  const model = new TinyNet(TINY_CONFIG);
  const train = tinyDataset(30);
  const test_ = tinyDataset(45);
  const loader = (ds: typeof train): DataLoader => new DataLoader(ds, { batchSize: 16, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  try {
    const support = await extractFeatures(model, loader(train), fp32);
    const head = fitNcm(support.features, support.labels, 3);
    const r = await fitFewShotHead(model, { mode: 'ncm', support: loader(train), numClasses: 3, plan: fp32 });
    assert.equal(r.centeredOn, 'support');
    assert.deepEqual([r.supportImages, r.featureDim], [30, 64]);
    const query = await extractFeatures(model, loader(test_), fp32);
    const rule = [...ncmNearest(query.features, head)];
    const viaModel = tidy(() => [...loader(test_)].flatMap((b) => argmax(noGrad(() => model.forward(b.x)))));
    assert.deepEqual(viaModel, rule);
    const ev = await evaluateModel(model, loader(test_), { plan: fp32, classNames: train.classes });
    assert.ok(ev.accuracy > 0.9, `brightness classes are easy: ${ev.accuracy}`);
    disposeAll([support.features, query.features, head]);
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('under a bf16 plan the installed head still gives the distance rule\'s class', async () => {
  const bf16 = planExecution({ precision: 'bf16', channelsLast: false, device: 'cpu' });
  manualSeed(14);
  const model = createModel('seed-cnn', { numClasses: 10 });
  const n = 200;
  const images = Uint8Array.from({ length: n * 784 }, (_, i) => (((i % 784) * 37 + Math.floor(i / 784) * 101) * ((i % 7) + 1)) & 255);
  const ds: ImageDataset = { name: 'toy', images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, channels: 1, height: 28, width: 28, classes: [...'0123456789'], source: 'test' };
  const loader = (): DataLoader => new DataLoader(ds, { batchSize: 50, mean: [0.5], std: [0.5] });
  try {
    const r = await fitFewShotHead(model, { mode: 'ncm', support: loader(), numClasses: 10, plan: bf16 });
    // seed-cnn's hidden layer makes way for the head: the features are the flattened conv output.
    assert.equal(r.featureDim, 2304);
    const support = await extractFeatures(model, loader(), bf16);
    const head = fitNcm(support.features, support.labels, 10);
    const rule = [...ncmNearest(support.features, head)];
    const viaModel = tidy(() => [...loader()].flatMap((b) => argmax(noGrad(() => withPlan(bf16, () => model.forward(b.x))))));
    assert.deepEqual(viaModel, rule);
    disposeAll([support.features, head]);
  } finally {
    model.dispose();
  }
});

test('an ncm model saves as an ordinary model folder: loaded back, predict gives the same probabilities', async () => {
  const before = liveTensors().count;
  manualSeed(13);
  const model = createModel('seed-cnn', { numClasses: 10 });
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-ncm-folder-'));
  const n = 12;
  const images = Uint8Array.from({ length: n * 784 }, (_, i) => ((i % 784) * (1 + Math.floor(i / 784) % 3) * 7) & 255);
  const ds: ImageDataset = { name: 'toy', images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), n, channels: 1, height: 28, width: 28, classes: ['x', 'y', 'z'], source: 'test' };
  try {
    await fitFewShotHead(model, { mode: 'ncm', support: new DataLoader(ds, { batchSize: 6, mean: [0.5], std: [0.5] }), numClasses: 3, plan: fp32 });
    saveModelFolder(dir, model, { classes: ds.classes, preprocess: legacyPreprocess(model.config) });
    const loaded = loadModelFolder(dir);
    const pixels = images.subarray(784, 2 * 784);
    const a = predictImages(model, [pixels], { input: loaded.config })[0]!;
    assert.equal(a.length, 3);
    assert.deepEqual(predictImages(loaded.model, [pixels], { input: loaded.config })[0]!, a);
    loaded.model.dispose();
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors().count, before);
});

test('a class without support images is a user error naming it', async () => {
  tidy(() => {
    assert.throws(() => fitNcm(randn([4, 3]), labelsOf([0, 0, 2, 2]), 3), (e: unknown) => e instanceof TlcvError && /class 1 has no support images/.test(e.message));
    assert.throws(() => fitNcm(randn([4, 3]), labelsOf([0, 1, 2]), 3), (e: unknown) => e instanceof TlcvError && /4 feature rows but 3 labels/.test(e.message));
  });
});

test('tlcv ncm equals the PyTorch peer (peers/ncm.py) on the same features', async () => {
  manualSeed(31);
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-ncm-peer-'));
  try {
    tidy(() => {
      const labels = Int32Array.from({ length: 50 }, (_, i) => (i * 7) % 4);
      const classCentres = randn([4, 32]).mul(1.5);
      const support = classCentres.indexSelect(0, fromTypedArray(labels, [50]).long()).add(randn([50, 32]));
      const query = randn([300, 32]).mul(1.5);
      const centers = [undefined, randn([32])];
      const dirs = centers.map((_, k) => [join(dir, `in${k}`), join(dir, `out${k}`)] as const);
      centers.forEach((center, k) => writePeerInput(dirs[k]![0], { support, labels: fromTypedArray(labels, [50]).long(), query, ...(center ? { center } : {}) }, { numClasses: 4 }));
      const run = spawnSync(PEER_PYTHON, [resolve('peers', 'ncm.py'), ...dirs.flat()], { encoding: 'utf8' });
      assert.equal(run.status, 0, `peers/ncm.py failed (python: ${PEER_PYTHON}; install python3-torch):\n${run.stderr}`);
      centers.forEach((center, k) => {
        const peer = readPeerDir(dirs[k]![1]).tensors;
        const head = fitNcm(support, labels, 4, center ? { center } : {});
        assertClose(head.center, peer.get('center')!.float(), { rtol: 1e-6, atol: 1e-6, what: 'centre' });
        assertClose(head.classMeans, peer.get('means')!.float(), { rtol: 1e-5, atol: 1e-6, what: 'class means' });
        assert.deepEqual(argmax(F.linear(query, head.weight, head.bias)), peer.get('predictions')!.toFlatArray(), 'predictions');
        disposeAll([head, [...peer.values()]]);
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
