// Folding wired through the product: evaluation, validation, the feature cache, a fit that runs
// its frozen prefix every step, prediction (shared view per model and plan), the classifier
// behind predict and serve, and plan timing. Each is checked by what libtorch runs (no BatchNorm
// op where the BatchNorms are frozen), by its results against the unfolded model, and by the
// live-tensor count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { checkDataset, DataLoader, type ImageDataset, legacyPreprocess } from '../src/data/index.js';
import { cat, inferenceMode, liveTensors, manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { native } from '../src/native/binding.js';
import { foldedForPlan, planForward, predictImages, sharedFoldedView, tunePlan, type ExecutionPlan } from '../src/execution/index.js';
import { Learner, computePrefixOutputs, evaluateModel, validate } from '../src/train/index.js';
import { load, saveModelFolder } from '../src/runs/index.js';
import { assertClose } from './helpers/assert-close.js';
import { randomiseNorms } from './helpers/norms.js';

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

/** How many BatchNorm forwards libtorch ran inside fn (sync or async). */
async function batchNormCalls(fn: () => unknown): Promise<number> {
  native.profilerStart();
  let rows: { name: string; calls: number }[] = [];
  try {
    await fn();
  } finally {
    rows = native.profilerStop().rows;
  }
  return rows.filter((r) => r.name === 'aten::batch_norm').reduce((n, r) => n + r.calls, 0);
}

/** A resnet18 with random BatchNorm statistics, its conv + BatchNorm pairs already traced (the one forward that runs every BatchNorm). */
function resnet(): ClassifierModel {
  manualSeed(11);
  const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
  randomiseNorms(model);
  foldedForPlan(model, FP32).dispose();
  return model.eval();
}

function images(n: number): ImageDataset {
  const px = new Uint8Array(n * 3 * 32 * 32);
  for (let i = 0; i < px.length; i += 1) px[i] = (i * 37 + (i >> 9) * 11) & 255;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return checkDataset({ name: 'pattern', images: px, labels, n, channels: 3, height: 32, width: 32, classes: ['a', 'b', 'c'], source: 'test' });
}

const loader = (ds: ImageDataset, model: ClassifierModel): DataLoader => new DataLoader(ds, { batchSize: 8, mean: model.config.mean, std: model.config.std });

/** Unfolded eval logits of the whole dataset, for comparison. */
function unfoldedLogits(model: ClassifierModel, ds: ImageDataset): number[][] {
  const out: number[][] = [];
  for (const b of loader(ds, model)) {
    const flat = inferenceMode(() => tidy(() => model.forward(b.x).toFlatArray()));
    for (let i = 0; i < b.y.size(0); i += 1) out.push(flat.slice(i * 3, i * 3 + 3));
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

test('evaluateModel and validate run the model folded: no BatchNorm op, the unfolded results, nothing left behind', async () => {
  const model = resnet();
  const ds = images(20);
  const live = liveTensors().count;
  const expected = unfoldedLogits(model, ds);
  const argmax = (v: number[]): number => v.indexOf(Math.max(...v));
  const accuracy = expected.filter((l, i) => argmax(l) === ds.labels[i]).length / ds.n;
  const r = { accuracy: NaN, loss: NaN };
  assert.equal(await batchNormCalls(async () => Object.assign(r, await evaluateModel(model, loader(ds, model), { plan: FP32, classNames: ds.classes }))), 0);
  assert.equal(r.accuracy, accuracy);
  const v = { loss: NaN, acc: NaN };
  assert.equal(await batchNormCalls(async () => Object.assign(v, await validate(model, model.stages(), loader(ds, model), FP32))), 0);
  assert.equal(v.acc, accuracy);
  assert.ok(Math.abs(v.loss - r.loss) < 1e-6, `validation loss ${v.loss} vs evaluation loss ${r.loss}`);
  assert.equal(liveTensors().count, live, 'the views were disposed');
  model.dispose();
});

test('the feature cache computes a frozen prefix folded, equal to the unfolded prefix', async () => {
  const model = resnet();
  const ds = images(12);
  const upTo = 3;
  const live = liveTensors().count;
  let features: Tensor | null = null;
  assert.equal(await batchNormCalls(async () => (features = await computePrefixOutputs(model, upTo, loader(ds, model), FP32))), 0);
  const stages = model.stages();
  const parts: Tensor[] = [];
  for (const b of loader(ds, model)) {
    parts.push(noGrad(() => tidy(() => planForward(model, b.x, FP32, { stages, to: upTo }).keep())));
    b.x.dispose();
    b.y.dispose();
  }
  tidy(() => {
    const expected = cat(parts, 0);
    assertClose(features!, expected, { rtol: 1e-4, atol: 1e-5 * expected.abs().max().item(), what: 'folded prefix' });
  });
  for (const p of parts) p.dispose();
  features!.dispose();
  assert.equal(liveTensors().count, live);
  model.dispose();
});

test('a fit that runs its frozen prefix every step (augmentation on) runs only the trainable BatchNorms', async () => {
  const model = resnet();
  const learn = new Learner({ model, train: images(16), options: { epochs: 1, batchSize: 8, augment: 'light', seed: 1, labelSmoothing: 0 }, plan: FP32, quiet: true });
  learn.setStrategy('fine-tune', 1);
  const trainable = [...model.namedModules()].filter(([p, m]) => p.startsWith('layer4.') && m.constructor.name === 'BatchNorm2d').length;
  assert.equal(trainable, 5, 'layer4 holds five BatchNorms');
  const live = liveTensors().count;
  const calls = await batchNormCalls(() => learn.fit());
  assert.equal(calls, 2 * trainable, 'two steps, each with the trainable stage\'s BatchNorms only');
  assert.equal(learn.frozenView, null, 'the view ends with the fit');
  assert.ok(Number.isFinite(learn.history[0]!.trainLoss));
  assert.equal(liveTensors().count, live);
  model.dispose();
});

test('predictImages shares one folded view per model and plan, made again when the weights change, freed with the model', async () => {
  const model = resnet();
  const ds = images(4);
  const pixels = Array.from({ length: 4 }, (_, i) => ds.images.subarray(i * 3072, (i + 1) * 3072));
  const live = liveTensors().count;
  const softmax = (l: number[]): number[] => {
    const e = l.map((v) => Math.exp(v - Math.max(...l)));
    return e.map((v) => v / e.reduce((a, b) => a + b, 0));
  };
  const check = (what: string): void => {
    const got = predictImages(model, pixels);
    const want = unfoldedLogits(model, ds).map(softmax);
    got.forEach((p, i) => p.forEach((v, j) => assert.ok(Math.abs(v - want[i]![j]!) < 1e-5, `${what}: ${v} vs ${want[i]![j]}`)));
  };
  assert.equal(await batchNormCalls(() => predictImages(model, pixels)), 0);
  check('first');
  const view = sharedFoldedView(model, FP32);
  predictImages(model, pixels);
  assert.equal(sharedFoldedView(model, FP32), view, 'the same view while the weights stay');
  noGrad(() => tidy(() => model.getSubmodule('conv1').namedParameters().get('weight')!.add_(randn([64, 3, 7, 7]).mul(0.05))));
  check('after an in-place change to a weight');
  assert.notEqual(sharedFoldedView(model, FP32), view, 'a new view for the new weights');
  assert.ok(liveTensors().count > live, 'the shared view holds its folded weights');
  const own = model.namedParameters().size + model.namedBuffers().size;
  model.dispose();
  assert.equal(liveTensors().count, live - own, 'disposing the model frees the shared view with it');
});

test('the classifier behind predict and serve runs folded and frees its view with dispose()', async () => {
  const model = resnet();
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-folded-clf-'));
  saveModelFolder(dir, model, { classes: ['a', 'b', 'c'], preprocess: legacyPreprocess(model.config) });
  const ds = images(2);
  const expected = unfoldedLogits(model, ds);
  model.dispose();
  const live = liveTensors().count;
  // libtorch's path (auto may pick onnxruntime, which runs no libtorch op at all).
  const clf = await load(dir, { engine: 'libtorch' });
  const batch = [ds.images.subarray(0, 3072), ds.images.subarray(3072)];
  // The first call makes the view (one traced forward finds the pairs); the next ones only use it.
  clf.classify(batch);
  let probs: number[][] = [];
  assert.equal(await batchNormCalls(() => (probs = clf.classify(batch))), 0);
  probs.forEach((p, i) => assert.equal(p.indexOf(Math.max(...p)), expected[i]!.indexOf(Math.max(...expected[i]!))));
  clf.dispose();
  assert.equal(liveTensors().count, live);
});

test('plan timing for inference times the folded forward', async () => {
  const before = process.env.TLCV_PLAN_CACHE;
  process.env.TLCV_PLAN_CACHE = 'off';
  const model = resnet();
  const [x, y] = tidy(() => [randn([8, 3, 32, 32]).keep(), randn([8]).abs().long().keep()]);
  try {
    const live = liveTensors().count;
    const calls = await batchNormCalls(() => tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: false, precision: 'fp32', channelsLast: 'auto', device: 'cpu' }));
    assert.equal(calls, 0);
    assert.equal(liveTensors().count, live);
  } finally {
    if (before === undefined) delete process.env.TLCV_PLAN_CACHE;
    else process.env.TLCV_PLAN_CACHE = before;
    x.dispose();
    y.dispose();
    model.dispose();
  }
});

test('foldedForPlan folds a range of stages only', () => {
  const model = resnet();
  const stages = model.stages();
  const view = foldedForPlan(model, FP32, { stages, from: 1, to: 2 });
  assert.ok(view.pairs.length > 0 && view.pairs.every((p) => stages[1]!.prefixes.some((s) => p.conv.startsWith(s))), JSON.stringify(view.pairs));
  view.dispose();
  model.dispose();
});
