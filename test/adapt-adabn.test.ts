// adabn: after adaptation each BatchNorm's running mean and variance are the target set's own
// per-channel statistics, computed here directly from the layer's input (first layer and a
// deeper one, whose input depends on the layers before it in train mode); with several
// batches the mean is the set's mean and the variance the average of the batch variances
// (the cumulative average). Weights, momentum and modes are left as they were, labels play no
// part, seed-cnn gets a clear error, and the same data gives the same statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { BatchNorm2d, type Module } from '../src/nn/index.js';
import { DataLoader, type ImageDataset } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';
import { planExecution } from '../src/execution/index.js';
import { adaptBatchNorm, withoutLabels } from '../src/transfer/adapt/index.js';
import { F, cat, liveTensors, manualSeed, noGrad, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

/** 24 random RGB images, brighter than ImageNet's mean: a shifted domain. */
function target(n = 24): ImageDataset {
  const images = new Uint8Array(n * 3 * 32 * 32);
  let s = 12345;
  for (let i = 0; i < images.length; i += 1) {
    s = (s * 1103515245 + 12345) >>> 0;
    images[i] = 100 + (s >>> 24) / 2;
  }
  return { name: 'bright', images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), n, channels: 3, height: 32, width: 32, classes: ['a', 'b', 'c'], source: 'test' };
}

const loader = (model: ClassifierModel, ds: ImageDataset, batchSize: number): DataLoader =>
  new DataLoader(ds, { batchSize, mean: model.config.mean, std: model.config.std });

const bn = (model: ClassifierModel, path: string): BatchNorm2d => model.getSubmodule(path) as BatchNorm2d;
const m = (model: ClassifierModel, path: string): Module => model.getSubmodule(path);

/** Per-channel mean and unbiased variance of [N, C, H, W]. */
const channelStats = (x: Tensor): [Tensor, Tensor] => [x.mean([0, 2, 3]), x.transpose(0, 1).flatten(1).std(1, true)];

/** Input of layer1.0.bn1 with every BatchNorm before it normalising by the batch's own statistics. */
function layer1Input(model: ClassifierModel, x: Tensor): Tensor {
  const trainBn = (path: string, h: Tensor): Tensor => F.batchNorm(h, { weight: bn(model, path).weight, bias: bn(model, path).bias, training: true });
  const stem = m(model, 'maxpool').forward(F.relu(trainBn('bn1', m(model, 'conv1').forward(x))));
  return m(model, 'layer1.0.conv1').forward(stem);
}

test('resnet18: the running statistics are the target set\'s per-channel statistics', async () => {
  const before = liveTensors().count;
  manualSeed(61);
  const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
  const ds = target();
  try {
    const weightsBefore = tidy(() => m(model, 'conv1').namedParameters().get('weight')!.clone().keep());
    const r = await adaptBatchNorm(model, loader(model, withoutLabels(ds), 24), fp32);
    assert.deepEqual(r, { layers: 20, batches: 1, images: 24 });
    tidy(() => {
      const [x] = [...loader(model, ds, 24)].map((b) => b.x);
      const input = noGrad(() => m(model, 'conv1').forward(x!));
      const [mean, variance] = channelStats(input);
      assertClose(bn(model, 'bn1').runningMean!, mean, { rtol: 1e-4, atol: 1e-5, what: 'bn1 running mean' });
      assertClose(bn(model, 'bn1').runningVar!, variance.pow(2), { rtol: 1e-4, atol: 1e-5, what: 'bn1 running var' });
      const [mean1, std1] = channelStats(noGrad(() => layer1Input(model, x!)));
      assertClose(bn(model, 'layer1.0.bn1').runningMean!, mean1, { rtol: 1e-4, atol: 1e-4, what: 'layer1.0.bn1 running mean' });
      assertClose(bn(model, 'layer1.0.bn1').runningVar!, std1.pow(2), { rtol: 1e-4, atol: 1e-4, what: 'layer1.0.bn1 running var' });
      assertClose(m(model, 'conv1').namedParameters().get('weight')!, weightsBefore, { atol: 0, rtol: 0, what: 'weights untouched' });
    });
    weightsBefore.dispose();
    for (const [, layer] of model.namedModules()) {
      if (!(layer instanceof BatchNorm2d)) continue;
      assert.equal(layer.momentum, 0.1, 'momentum restored');
      assert.equal(layer.training, false, 'left in eval mode');
    }
    assert.equal(model.namedBuffers().get('layer4.1.bn2.num_batches_tracked')!.item(), 1);
    assert.ok(model.parameters().every((p) => p.grad === null), 'no gradient was computed');
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('several batches: the mean of the whole set, the variance averaged over batches; labels and seeds change nothing', async () => {
  const before = liveTensors().count;
  const ds = target();
  const stats: { mean: number[]; variance: number[]; deep: number[] }[] = [];
  for (const data of [ds, { ...ds, labels: ds.labels.map((y) => 2 - y) }]) {
    manualSeed(62);
    const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
    try {
      model.freeze(); // a frozen BatchNorm keeps its statistics in training, but adabn recomputes them
      await adaptBatchNorm(model, loader(model, data, 8), fp32);
      const bn1 = bn(model, 'bn1');
      const out = { mean: bn1.runningMean!.toFlatArray(), variance: bn1.runningVar!.toFlatArray(), deep: bn(model, 'layer3.1.bn2').runningVar!.toFlatArray() };
      tidy(() => {
        const inputs = [...loader(model, ds, 8)].map((b) => noGrad(() => m(model, 'conv1').forward(b.x)));
        assertClose(bn1.runningMean!, cat(inputs).mean([0, 2, 3]), { rtol: 1e-4, atol: 1e-5, what: 'mean over all 24 images' });
        const batchVar = inputs.map((x) => channelStats(x)[1].pow(2));
        assertClose(bn1.runningVar!, batchVar[0]!.add(batchVar[1]!).add(batchVar[2]!).div(3), { rtol: 1e-4, atol: 1e-5, what: 'average of the 3 batch variances' });
      });
      assert.equal(bn1.isFrozen, true);
      assert.equal(bn1.evalWhenFrozen, true, 'evalWhenFrozen restored');
      stats.push(out);
    } finally {
      model.dispose();
    }
  }
  assert.deepEqual(stats[0], stats[1], 'other labels, same statistics (labels are never read)');
  assert.equal(liveTensors().count, before);
});

test('seed-cnn has no BatchNorm: a clear error that says so and what to use instead', async () => {
  const model = createModel('seed-cnn', { numClasses: 3 });
  const ds: ImageDataset = { ...target(4), channels: 1, height: 28, width: 28, images: new Uint8Array(4 * 28 * 28) };
  try {
    await assert.rejects(
      () => adaptBatchNorm(model, new DataLoader(ds, { batchSize: 2, mean: [0.5], std: [0.5] }), fp32),
      (e: unknown) => e instanceof TlcvError && e.code === 'MODEL' && /seed-cnn has no BatchNorm layer/.test(e.message) && /dann or pseudo-label/.test(e.message),
    );
  } finally {
    model.dispose();
  }
});

test('a target of single images gives an error and leaves the old statistics in place', async () => {
  manualSeed(63);
  const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
  try {
    tidy(() => noGrad(() => bn(model, 'bn1').runningMean!.fill_(0.25)));
    await assert.rejects(() => adaptBatchNorm(model, loader(model, target(1), 4), fp32), (e: unknown) => e instanceof TlcvError && /no batch of two or more/.test(e.message));
    assert.ok(bn(model, 'bn1').runningMean!.toFlatArray().every((v) => v === 0.25));
    assert.equal(bn(model, 'bn1').momentum, 0.1);
  } finally {
    model.dispose();
  }
});
