// The Learner on a streaming photo folder (library API): it trains on random crops and validates
// on centre crops read with `for await`, caches a frozen prefix only when the training crops are
// fixed, keeps labels aligned when a file goes bad mid-run under 'skip', leaves no tensor
// behind, and saves the preprocessing record that `load` gives back. (The photo example in
// docs/photo-folders.md runs in docs-examples.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyPreprocess, describeData, fractionSplit, isFileDataset, loadDataset, resolveDataConfig, serializePreprocess, type ImageFileDataset, type PreprocessConfig } from '../src/data/index.js';
import { liveTensors, manualSeed } from '../src/tensor/index.js';
import { registerModel } from '../src/models/index.js';
import { Learner } from '../src/train/index.js';
import { Model, load } from '../src/runs/index.js';
import { TINY_CONFIG, TinyNet } from './helpers/tiny-model.js';
import { writePhoto } from './helpers/photos.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-learner-photos-'));
after(() => rmSync(root, { recursive: true, force: true }));

const plan = { bf16: false, channelsLast: false, device: 'cpu' };
const options = { batchSize: 4, optimizer: 'adamw', scheduler: 'none', lr: 0.01, seed: 1, augment: 'none', epochs: 2 } as const;
const N = 16;

before(async () => {
  // Learner.load builds the model folder's architecture by name.
  registerModel(TINY_CONFIG, (c) => new TinyNet(c));
  for (let i = 0; i < N; i += 1) {
    const portrait = i % 4 === 3;
    await writePhoto(join(root, 'photos', i % 2 === 0 ? 'a' : 'b', `${i}.jpg`), { width: portrait ? 150 : 200, height: portrait ? 200 : 150, seed: i });
  }
});

/** The folder streaming, with the tiny model's 1x8x8 input as its record (random crops unless trainCrop is false). */
async function photos(o: { trainCrop?: boolean; onBadImage?: 'error' | 'skip'; log?: (m: string) => void } = {}): Promise<{ ds: ImageFileDataset; cfg: PreprocessConfig }> {
  const raw = await loadDataset(`folder:${join(root, 'photos')}`, { stream: true, cacheImages: 'off', ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}) });
  assert.ok(isFileDataset(raw));
  const cfg = resolveDataConfig({ model: TINY_CONFIG, data: describeData(raw), inputSize: [8, 8], channels: 1, ...(o.trainCrop === undefined ? {} : { trainCrop: o.trainCrop }) });
  return { ds: applyPreprocess(raw, cfg, { train: true, cacheImages: 'off' }) as ImageFileDataset, cfg };
}

function tiny(): TinyNet {
  manualSeed(0);
  return new TinyNet({ ...TINY_CONFIG, numClasses: 2 });
}

test('fit on random crops, validate on centre crops, no tensor left; the record saves and loads back', async () => {
  const { ds, cfg } = await photos();
  const [train, val] = fractionSplit(ds, 0.75, 1);
  const lines: string[] = [];
  const model = tiny();
  const before = liveTensors().count;
  const learn = new Learner({ model, train, val, options, plan, quiet: true, log: (l) => lines.push(l) });
  assert.ok(isFileDataset(train));
  assert.deepEqual(train.preprocess, cfg, 'the streaming training set carries the record');
  learn.setStrategy('feature-extraction');
  const r = await learn.fit();
  assert.equal(r.history.length, 2);
  assert.ok(r.history.every((h) => Number.isFinite(h.trainLoss) && h.valAcc !== undefined));
  assert.equal(learn.startStage, 0, 'random crops change the frozen stage\'s input every epoch: nothing cached');
  assert.ok(lines.some((l) => /not cached: each epoch draws new random crops/.test(l)), lines.join('\n'));
  assert.equal(liveTensors().count, before, 'the streaming loaders left no tensor behind');
  const ev = await learn.evaluate(val);
  assert.equal(ev.n, val.n);
  Model.wrap(model, { classes: train.classes, preprocess: train.preprocess }).save(join(root, 'm'));
  assert.deepEqual(JSON.parse(readFileSync(join(root, 'm', 'config.json'), 'utf8')).preprocess, serializePreprocess(cfg));
  const loaded = await load(join(root, 'm'));
  assert.deepEqual(loaded.preprocess, cfg);
  loaded.dispose();
  model.dispose();
});

test('with fixed training crops the frozen prefix is computed once from the streaming folder', async () => {
  const { ds, cfg } = await photos({ trainCrop: false });
  assert.equal(cfg.train.randomResizedCrop, null);
  const model = tiny();
  const learn = new Learner({ model, train: ds, options, plan, quiet: true });
  const r = await learn.featureExtract();
  assert.equal(learn.startStage, 1, 'batches entered the model after the cached stage');
  assert.ok(learn.cacheSeconds > 0);
  assert.equal(r.history.length, 2);
  model.dispose();
});

test("a file deleted after indexing, under 'skip': the cached features keep their own labels, the run goes on", async () => {
  const lines: string[] = [];
  const { ds } = await photos({ trainCrop: false, onBadImage: 'skip', log: (l) => lines.push(l) });
  rmSync(join(root, 'photos', 'b', '1.jpg'));
  const model = tiny();
  const learn = new Learner({ model, train: ds, options: { ...options, epochs: 1 }, plan, quiet: true });
  await learn.featureExtract();
  assert.equal(learn.startStage, 1);
  assert.equal(learn.epochProgress.images, N - 1, 'the epoch trained on every image but the deleted one');
  assert.ok(lines.some((l) => /skipped bad image file b\/1\.jpg.*no longer exists/.test(l)), lines.join('\n'));
  const ev = await learn.evaluate(ds);
  assert.equal(ev.n, N - 1);
  model.dispose();
});
