// Determinism: from the same seed every head (ncm, knn, probe) comes out the same to the bit,
// with a shuffled support loader; a different model seed gives a different head, so the check
// can fail. Also: the heads and the adaptation pieces run under the default execution plan
// (bf16 autocast and channels-last where the CPU has native bf16), leaving no tensor behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../src/models/index.js';
import { DataLoader, type ImageDataset } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { HEAD_MODES, fitFewShotHead, type HeadMode } from '../src/transfer/heads/index.js';
import { DannObjective, adaptBatchNorm, pseudoLabelRound } from '../src/transfer/adapt/index.js';
import { liveTensors, manualSeed, randn, tensor, tidy } from '../src/tensor/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

async function headState(mode: HeadMode, modelSeed: number): Promise<Record<string, number[]>> {
  manualSeed(modelSeed);
  const model = new TinyNet(TINY_CONFIG);
  try {
    const support = new DataLoader(tinyDataset(30), { batchSize: 8, shuffle: true, seed: 5, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
    const source = new DataLoader(tinyDataset(20), { batchSize: 8, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
    await fitFewShotHead(model, { mode, support, source: mode === 'probe' ? null : source, numClasses: 3, plan: fp32, k: 3, probe: { seed: 2 } });
    const head = model.getSubmodule(model.config.classifier);
    return Object.fromEntries([...head.stateDict()].map(([k, v]) => [k, v.toFlatArray()]));
  } finally {
    model.dispose();
  }
}

for (const mode of HEAD_MODES) {
  test(`${mode}: the same seed gives the same head`, async () => {
    const a = await headState(mode, 91);
    assert.deepEqual(await headState(mode, 91), a);
    assert.notDeepEqual(await headState(mode, 92), a, 'another backbone seed, another head');
  });
}

/** 30 images of three classes (coarse brightness patterns), 3x32x32. */
function rgb(n: number): ImageDataset {
  const images = new Uint8Array(n * 3 * 32 * 32);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < images.length; i += 1) images[i] = (labels[Math.floor(i / 3072)]! * 70 + ((i * 2654435761) >>> 26)) & 255;
  return { name: 'rgb', images, labels, n, channels: 3, height: 32, width: 32, classes: ['a', 'b', 'c'], source: 'test' };
}

test('under the default plan: heads, adabn, the dann loss and a pseudo-label round run and free their tensors', async () => {
  const before = liveTensors().count;
  const plan = planExecution({ precision: 'auto', channelsLast: 'auto', device: 'cpu' });
  manualSeed(93);
  const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
  const ds = rgb(30);
  const loader = (): DataLoader => new DataLoader(ds, { batchSize: 10, mean: model.config.mean, std: model.config.std });
  const dann = DannObjective.forModel(model, { hidden: 32 });
  try {
    for (const mode of HEAD_MODES) {
      await fitFewShotHead(model, { mode, support: loader(), numClasses: 3, plan });
      const ev = await evaluateModel(model, loader(), { plan, classNames: ds.classes });
      assert.ok(ev.accuracy > 0.5 && Number.isFinite(ev.loss!), `${mode}: ${ev.accuracy} on its own support set`);
    }
    assert.equal((await adaptBatchNorm(model, loader(), plan)).batches, 3);
    model.train();
    tidy(() => {
      const r = dann.loss(model, { x: randn([4, 3, 32, 32]), y: tensor([0, 1, 2, 0], { dtype: 'int64' }) }, randn([4, 3, 32, 32]), 0.5, plan);
      r.loss.backward();
      assert.ok(Number.isFinite(r.loss.item()));
    });
    model.zeroGrad();
    dann.discriminator.zeroGrad();
    assert.ok(pseudoLabelRound(model, ds, plan, ds.classes, { threshold: 0 }).selection.indices.length > 0);
  } finally {
    model.dispose();
    dann.dispose();
  }
  assert.equal(liveTensors().count, before);
});
