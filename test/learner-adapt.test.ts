// The few-shot heads and the adaptation methods on the Learner, on a tiny model: fewShotHead
// and its model folder round trip (the config's head record brings back the kNN head and the
// float32 Linear); the Dann callback (its discriminator in the optimizer and in train mode
// during the fit, eval after; source and target in one batch, logits of the source rows only;
// TLlib's schedule); adaptModel's pseudo-label rounds; for both, target labels never read
// (scrambled target labels give the same weights) and the same seed giving the same weights;
// BatchNorm2d's momentum as a checked property.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, type Tensor } from '../src/tensor/index.js';
import { BatchNorm2d } from '../src/nn/index.js';
import { Float32Linear } from '../src/nn/float32-linear.js';
import { registerModel } from '../src/models/index.js';
import { checkDataset, legacyPreprocess, takeIndices, type ImageDataset } from '../src/data/index.js';
import { dannLambda } from '../src/transfer/adapt/index.js';
import { KnnHead } from '../src/transfer/heads/index.js';
import { Model, adaptModel, loadModelFolder } from '../src/runs/index.js';
import { predictImages } from '../src/execution/index.js';
import { Dann, Learner, type Callback, type LearnerView } from '../src/train/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-learner-adapt-'));
after(() => rmSync(root, { recursive: true, force: true }));
registerModel(TINY_CONFIG, (c) => new TinyNet(c));

const plan = { bf16: false, channelsLast: false, device: 'cpu' };
const base = { batchSize: 8, optimizer: 'sgd', scheduler: 'none', lr: 0.05, momentum: 0.9, seed: 3, augment: 'none', precision: 'fp32', channelsLast: false } as const;

function tiny(): TinyNet {
  manualSeed(0);
  return new TinyNet(TINY_CONFIG);
}

/** A shifted domain of the tiny data: brighter images, the same classes. */
function brighter(n: number): ImageDataset {
  const ds = tinyDataset(n);
  return checkDataset({ ...ds, name: 'tiny-bright', images: Uint8Array.from(ds.images, (v) => Math.min(255, v + 40)) });
}

/** The same images with labels that say nothing (a permutation, then shifted by one class). */
function scrambled(ds: ImageDataset): ImageDataset {
  return { ...ds, labels: Int32Array.from(ds.labels, (y, i) => (y + 1 + (i % 2)) % ds.classes.length) };
}

function flat(state: Map<string, Tensor>): number[] {
  return [...state.values()].flatMap((t) => t.toFlatArray());
}

test('fewShotHead: ncm and knn heads save and load as themselves, predicting the same', async () => {
  const support = tinyDataset(30);
  const images = [0, 1, 2, 3].map((i) => brighter(4).images.subarray(i * 64, (i + 1) * 64));
  for (const [mode, kind, cls] of [['ncm', 'float32-linear', Float32Linear], ['knn', 'knn', KnnHead], ['probe', 'float32-linear', Float32Linear]] as const) {
    const model = tiny();
    const learn = new Learner({ model, train: support, options: base, plan, quiet: true });
    const r = await learn.fewShotHead({ mode, ...(mode === 'knn' ? { k: 3 } : {}), ...(mode === 'probe' ? { probe: { seed: 1, lambdas: [1e-3, 1e-1] } } : {}) });
    assert.equal(r.supportImages, 30);
    assert.equal(r.featureDim, 64);
    const dir = join(root, `head-${mode}`);
    Model.wrap(model, { classes: support.classes, preprocess: legacyPreprocess(model.config) }).save(dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { head?: { kind: string; k?: number } };
    assert.deepEqual(config.head, mode === 'knn' ? { kind, k: 3 } : { kind });
    const loaded = loadModelFolder(dir);
    const head = loaded.model.getSubmodule(TINY_CONFIG.classifier);
    assert.ok(head instanceof cls, `${mode}: reloads as ${cls.name}, not ${head.constructor.name}`);
    if (head instanceof KnnHead) assert.equal(head.k, 3);
    assert.deepEqual(predictImages(loaded.model, images, { plan }), predictImages(model, images, { plan }), `${mode}: same probabilities after the round trip`);
    loaded.model.dispose();
    model.dispose();
  }
});

test('a bad head record names the field', () => {
  const model = tiny();
  const dir = join(root, 'bad-head');
  Model.wrap(model, { classes: tinyDataset(6).classes, preprocess: legacyPreprocess(model.config) }).save(dir);
  const path = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...config, head: { kind: 'svm' } }));
  assert.throws(() => loadModelFolder(dir), /config\.json: field "head\.kind" must be one of float32-linear, knn, found "svm"/);
  writeFileSync(path, JSON.stringify({ ...config, head: { kind: 'knn', k: 3 } }));
  assert.throws(() => loadModelFolder(dir), /knn head state has no "center"/);
  model.dispose();
});

/** Watches what the Dann callback arranges, from inside the fit. */
class Watch implements Callback {
  readonly order = 45;
  rows: { x: number; y: number; pred: number }[] = [];
  discriminatorTraining: boolean[] = [];
  constructor(readonly dann: Dann) {}
  afterPred(learn: LearnerView): void {
    this.rows.push({ x: learn.batch!.x.size(0), y: learn.batch!.y.size(0), pred: learn.pred!.size(0) });
    this.discriminatorTraining.push(this.dann.objective!.discriminator.training);
  }
}

async function dannFit(target: ImageDataset, epochs = 2): Promise<{ weights: number[]; dann: Dann; watch: Watch; discriminator: number[][] }> {
  const model = tiny();
  const dann = new Dann(target, { hidden: 16 });
  const watch = new Watch(dann);
  const seen: number[][] = [];
  const snap: Callback = { order: 46, afterSetup: () => void seen.push(flat(dann.objective!.discriminator.stateDict())), afterFit: () => void seen.push(flat(dann.objective!.discriminator.stateDict())) };
  const learn = new Learner({ model, train: tinyDataset(20), options: { ...base, epochs }, plan, quiet: true, callbacks: [dann, watch, snap] });
  learn.setStrategy('fine-tune');
  await learn.fit();
  assert.equal(dann.objective!.discriminator.training, false, 'the discriminator rests in eval mode after the fit');
  const weights = flat(model.stateDict());
  model.dispose();
  return { weights, dann, watch, discriminator: seen };
}

test('Dann: one batch of both domains, source logits only, the discriminator trained beside the model', async () => {
  const before = liveTensors().count;
  const target = brighter(12);
  const { weights, dann, watch, discriminator } = await dannFit(target);
  // 20 source images in batches of 8 (8, 8, 4); each joined by 8 target images (12 of them, drop-last).
  assert.deepEqual(
    watch.rows.map((r) => r.x),
    [16, 16, 12, 16, 16, 12],
  );
  assert.ok(watch.rows.every((r) => r.pred === r.y), 'the loss sees the source rows only');
  assert.deepEqual(watch.rows.map((r) => r.y), [8, 8, 4, 8, 8, 4]);
  assert.ok(watch.discriminatorTraining.every((t) => t), 'train mode during the fit');
  assert.notDeepEqual(discriminator[0], discriminator[1], 'the optimizer stepped the discriminator');
  assert.equal(dann.epochs.length, 2);
  // Progress at the last step: (2 - 1) * 3 + 2 steps of 6.
  assert.ok(Math.abs(dann.epochs[1]!.lambda - dannLambda(5 / 6)) < 1e-12);
  assert.ok(dann.epochs.every((e) => e.domainAccuracy >= 0 && e.domainAccuracy <= 1 && Number.isFinite(e.domainLoss)));
  dann.dispose();
  // Scrambled target labels and the same seed: the same weights, to the bit.
  const again = await dannFit(scrambled(target));
  assert.deepEqual(again.weights, weights);
  again.dann.dispose();
  assert.equal(liveTensors().count, before, 'no tensor outlives the fits');
});

test('adaptModel pseudo-label: rounds of fit on source plus confident target images; blind to target labels', async () => {
  const run = async (target: ImageDataset): Promise<{ weights: number[]; r: Awaited<ReturnType<typeof adaptModel>> }> => {
    const model = tiny();
    const r = await adaptModel(model, {
      method: 'pseudo-label',
      source: tinyDataset(24),
      target,
      targetTest: brighter(9),
      options: { ...base, epochs: 2 },
      pseudoLabel: { rounds: 2, threshold: 0 },
    });
    const weights = flat(model.stateDict());
    model.dispose();
    return { weights, r };
  };
  const target = takeIndices(brighter(18), Array.from({ length: 18 }, (_, i) => i));
  const a = await run(target);
  assert.deepEqual(a.r.history.map((e) => e.epoch), [1, 2, 3, 4], 'rounds numbered on');
  assert.ok(a.r.history.every((e) => Number.isFinite(e.targetAcc)), 'the target test scored every epoch');
  assert.equal(a.r.rounds!.length, 2);
  // Threshold 0: every image is confident; balancing keeps at most ceil(18 / 3) per class.
  assert.ok(a.r.rounds!.every((x) => x.confident === 18 && x.selected <= 18 && x.perClass.every((c) => c <= 6)));
  assert.equal(a.r.before.target!.n, 9);
  const b = await run(scrambled(target));
  assert.deepEqual(b.weights, a.weights, 'scrambled target labels change nothing');
  assert.deepEqual(b.r.history, a.r.history);
});

test('adaptModel refuses what it cannot do', async () => {
  const model = tiny();
  await assert.rejects(adaptModel(model, { method: 'dann', target: brighter(6) }), /dann trains on labelled source images: give the source data/);
  await assert.rejects(adaptModel(model, { method: 'adabn', target: brighter(6) }), /adabn recomputes BatchNorm statistics, but tiny-test has no BatchNorm layer/);
  model.dispose();
});

test('BatchNorm2d momentum: a number in [0, 1] or null (a cumulative average)', () => {
  const bn = new BatchNorm2d(4);
  assert.equal(bn.momentum, 0.1);
  bn.momentum = null;
  assert.equal(bn.momentum, null);
  assert.throws(() => (bn.momentum = 2), /Expected a number in \[0, 1\] or null for BatchNorm2d momentum but received 2/);
  assert.throws(() => new BatchNorm2d(4, { momentum: -1 }), /BatchNorm2d momentum/);
  bn.dispose();
});
