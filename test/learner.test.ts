// The Learner and its callback contract, on a tiny model: the events in their order, callbacks
// by their `order`, a user callback that adds a loss term or skips steps, early stopping that
// keeps the best weights, a source read through its async iterator, the transfer strategies
// (feature extraction with a cached body, two-stage fine-tuning) and the model folder round trip.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed, type Tensor } from '../src/tensor/index.js';
import { DataLoader, legacyPreprocess } from '../src/data/index.js';
import { cloneState, disposeState, predictImages } from '../src/execution/index.js';
import { Model, load } from '../src/runs/index.js';
import { registerModel } from '../src/models/index.js';
import { Checkpoint, Learner, MetricsLog, readMetricsFile, type BatchSource, type Callback, type LearnerView } from '../src/train/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';
import { AsyncSource } from './helpers/async-source.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-learner-'));
after(() => rmSync(root, { recursive: true, force: true }));

const plan = { bf16: false, channelsLast: false, device: 'cpu' };
const base = { batchSize: 8, optimizer: 'adamw', scheduler: 'none', lr: 0.01, seed: 1, augment: 'none' } as const;

function tiny(): TinyNet {
  manualSeed(0);
  return new TinyNet(TINY_CONFIG);
}

function sameState(a: Map<string, Tensor>, b: Map<string, Tensor>): boolean {
  return [...a].every(([k, v]) => {
    const x = v.toFlatArray();
    const y = b.get(k)!.toFlatArray();
    return x.length === y.length && x.every((e, i) => e === y[i]);
  });
}

test('events run in order, callbacks by their order, and see the run', async () => {
  const events: string[] = [];
  const seen: Record<string, unknown> = {};
  const names = ['beforeFit', 'afterSetup', 'beforeEpoch', 'beforeBatch', 'afterPred', 'afterLoss', 'afterBackward', 'beforeStep', 'afterStep', 'afterBatch', 'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit', 'cleanup'] as const;
  const recorder: Callback = Object.fromEntries(names.map((n) => [n, (l: LearnerView) => void events.push(`${n} ${l.epoch}`)]));
  const late: Callback = { order: 70, afterEpoch: () => void events.push('late') };
  const early: Callback = {
    order: 5,
    afterEpoch: () => void events.push('early'),
    afterSetup: (l) => void Object.assign(seen, { plan: l.plan, steps: l.train!.length, optimizer: l.optimizer !== null, summary: l.summary }),
    afterPred: (l) => void (seen.pred ??= l.pred!.shape),
    afterFit: (l) => void Object.assign(seen, { iteration: l.iteration, lrTrace: l.lrTrace.length }),
  };
  const model = tiny();
  const learn = new Learner({ model, train: tinyDataset(16), val: tinyDataset(6), options: { ...base, epochs: 2 }, plan, callbacks: [late, recorder, early], quiet: true });
  const r = await learn.fit();
  const batch = (e: number): string[] => ['beforeBatch', 'afterPred', 'afterLoss', 'afterBackward', 'beforeStep', 'afterStep', 'afterBatch'].map((n) => `${n} ${e}`);
  const epoch = (e: number): string[] => [`beforeEpoch ${e}`, ...batch(e), ...batch(e), `beforeValidate ${e}`, `afterValidate ${e}`, 'early', `afterEpoch ${e}`, 'late'];
  assert.deepEqual(events, ['beforeFit 0', 'afterSetup 0', ...epoch(1), ...epoch(2), 'afterFit 2', 'cleanup 2']);
  assert.deepEqual(seen, { plan, steps: 2, optimizer: true, summary: '16 training images, 6 validation images; fp32 on cpu; adamw lr 0.01, none schedule, 2 epochs', pred: [8, 3], iteration: 4, lrTrace: 4 });
  assert.equal(r.history.length, 2);
  assert.ok(r.history.every((h) => h.valAcc !== undefined));
  model.dispose();
});

test('a user callback can add a loss term, and can skip the optimizer step', async () => {
  const run = async (callbacks: Callback[]): Promise<{ history: number[]; state: Map<string, Tensor>; lrs: number }> => {
    const model = tiny();
    const r = await new Learner({ model, train: tinyDataset(24), options: { ...base, epochs: 2 }, plan, callbacks, quiet: true }).fit();
    const state = cloneState(model.stateDict());
    model.dispose();
    return { history: r.history.map((h) => h.trainLoss), state, lrs: r.lrTrace.length };
  };
  const before = liveTensors().count;
  const plain = await run([]);
  // A constant term moves the loss, not its gradient: the weights end where they would have.
  const extra = await run([{ afterLoss: (l) => void (l.loss = l.loss!.add(10)) }]);
  extra.history.forEach((v, i) => assert.ok(Math.abs(v - plain.history[i]! - 10) < 1e-4, `epoch ${i + 1}: ${v} vs ${plain.history[i]} + 10`));
  assert.ok(sameState(extra.state, plain.state), 'a constant loss term leaves the updates as they were');
  const skipped = await run([{ beforeStep: (l) => l.skipStep() }]);
  const untrained = tiny();
  assert.ok(sameState(skipped.state, untrained.stateDict()), 'no step was taken');
  assert.equal(skipped.lrs, 0);
  assert.ok(!sameState(plain.state, untrained.stateDict()), 'the plain run did train');
  untrained.dispose();
  for (const r of [plain, extra, skipped]) disposeState(r.state);
  assert.equal(liveTensors().count, before);
  // Per-batch events run inside the step's tensor scope: an async one is refused, by name.
  const model = tiny();
  await assert.rejects(
    new Learner({ model, train: tinyDataset(8), options: { ...base, epochs: 1 }, plan, callbacks: [{ name: 'slow', afterBatch: (async () => undefined) as unknown as () => void }], quiet: true }).fit(),
    /callback slow: afterBatch must be synchronous/,
  );
  model.dispose();
});

test('early stopping ends the fit once the best epoch is `patience` old, and the best weights come back', async () => {
  const model = tiny();
  let best: Map<string, Tensor> | null = null;
  let last: Map<string, Tensor> | null = null;
  const watch: Callback = {
    order: 60,
    afterEpoch: (l) => {
      if (last) disposeState(last);
      last = cloneState(l.model.stateDict());
      if (l.bestEpoch !== l.epoch) return;
      if (best) disposeState(best);
      best = cloneState(l.model.stateDict());
    },
  };
  const before = liveTensors().count;
  const r = await new Learner({ model, train: tinyDataset(48), val: tinyDataset(9), options: { ...base, epochs: 60, patience: 2 }, plan, callbacks: [watch], quiet: true }).fit();
  assert.equal(r.stoppedEarly, true, `the validation accuracy kept improving: ${r.history.map((h) => h.valAcc).join(', ')}`);
  assert.equal(r.history.length, r.bestEpoch + 2);
  assert.ok(r.history.slice(r.bestEpoch).every((h) => h.valAcc! <= r.history[r.bestEpoch - 1]!.valAcc!));
  assert.ok(sameState(model.stateDict(), best!), 'the model holds the best epoch\'s weights');
  assert.ok(!sameState(model.stateDict(), last!), 'not the last epoch\'s');
  disposeState(best!);
  disposeState(last!);
  assert.equal(liveTensors().count, before, 'KeepBest freed its copy');
  model.dispose();
});


test('a source read with for-await trains exactly as the same loader read synchronously', async () => {
  const histories = [];
  for (const wrap of [(l: DataLoader): BatchSource => l, (l: DataLoader): BatchSource => new AsyncSource(l)]) {
    const model = tiny();
    const loader = new DataLoader(tinyDataset(40), { batchSize: 8, shuffle: true, seed: 3, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
    const val = new AsyncSource(new DataLoader(tinyDataset(9), { batchSize: 4, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std }));
    histories.push((await new Learner({ model, train: wrap(loader), val, options: { ...base, epochs: 3 }, plan, quiet: true }).fit()).history);
    model.dispose();
  }
  assert.deepEqual(histories[1], histories[0]);
});

test('feature extraction trains the head on the cached body; fineTune trains the head first, then all', async () => {
  const model = tiny();
  const body = (): number[] => model.stateDict().get('features.0.weight')!.toFlatArray();
  const start = body();
  const learn = new Learner({ model, train: tinyDataset(24), options: { ...base, epochs: 2 }, plan, quiet: true });
  await learn.featureExtract();
  assert.equal(learn.frozenStages, 1);
  assert.equal(learn.startStage, 1, 'batches entered the model after the cached stage');
  assert.ok(learn.cacheSeconds > 0);
  assert.deepEqual(body(), start, 'the frozen body did not move');

  const r = await learn.fineTune({ headEpochs: 1, epochs: 2 });
  assert.equal(r.history.length, 2);
  assert.notDeepEqual(body(), start, 'fine-tuning trained the body');
  assert.equal(learn.frozenStages, 0);
  model.dispose();

  // With a Checkpoint, the head-only stage keeps its own checkpoint and metrics in head-stage/.
  const out = join(root, 'fine-tune');
  const model2 = tiny();
  const staged = new Learner({ model: model2, train: tinyDataset(24), options: { ...base, epochs: 2 }, plan, callbacks: [new Checkpoint(out, { signals: false })], quiet: true });
  await staged.fineTune({ headEpochs: 1 });
  assert.equal(readMetricsFile(join(out, 'head-stage')).length, 1);
  assert.equal(readMetricsFile(out).length, 2);
  assert.ok(existsSync(join(out, 'head-stage', 'checkpoint.safetensors')) && existsSync(join(out, 'checkpoint.safetensors')));
  model2.dispose();
});

test('MetricsLog writes metrics.jsonl after every epoch; save and load round-trip the model', async () => {
  const dir = join(root, 'metrics-log');
  const lines: number[] = [];
  const model = tiny();
  const learn = new Learner({
    model,
    train: tinyDataset(16),
    options: { ...base, epochs: 3 },
    plan,
    callbacks: [new MetricsLog(dir), { order: 85, afterEpoch: () => void lines.push(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length) }],
    quiet: true,
  });
  await learn.fit();
  assert.deepEqual(lines, [1, 2, 3]);
  Model.wrap(model, { classes: learn.classes!, preprocess: legacyPreprocess(model.config) }).save(dir);
  const images = [0, 1, 2].map((i) => tinyDataset(3).images.subarray(i * 64, (i + 1) * 64));
  registerModel(TINY_CONFIG, (c) => new TinyNet(c));
  // Bit-for-bit against the trained module's libtorch forward: the libtorch engine (onnxruntime agrees within 1e-4, engine-parity.test.ts).
  const loaded = await load(dir, { precision: 'fp32', engine: 'libtorch' });
  assert.deepEqual(loaded.classes, ['a', 'b', 'c']);
  assert.deepEqual(loaded.classify(images), predictImages(model, images, { plan }));
  const ev = await loaded.evaluate(tinyDataset(9));
  assert.equal(ev.n, 9);
  assert.equal(ev.accuracy, (await learn.evaluate(tinyDataset(9))).accuracy);
  loaded.dispose();
  model.dispose();
});
