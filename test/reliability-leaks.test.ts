// Leaks: 10,000 training steps through the real loop (Learner.fit, as the CLI runs it: DataLoader with augmentation,
// autocast plan, AdamW, one-cycle schedule, validation) and 10,000 one-image predictions
// through the function `tlcv predict` calls leave the live-tensor count where it was and RSS
// flat. A tiny model keeps the 10,000 steps to seconds: what is measured is the loop's
// bookkeeping, which does not depend on the model's size. A source read through its async
// iterator (a prefetching pipeline) is held to the same bound as one read synchronously.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { getNumThreads, liveTensors, manualSeed, setNumThreads } from '../src/tensor/index.js';
import { DataLoader, decodeImage } from '../src/data/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';
import { AsyncSource } from './helpers/async-source.js';
import { Augmenter, parseAugment } from '../src/transforms/index.js';
import { Learner, resolveTrainOptions, type BatchSource, type LearnerView } from '../src/train/index.js';
import { planExecution, predictImages } from '../src/execution/index.js';
import type { ModelFolderConfig } from '../src/runs/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'tlcv-leaks-'));
const threads = getNumThreads();
// One thread: the ops are tiny, and libtorch's spinning workers on a shared 2-core machine
// only make the loop slower without changing what it allocates.
setNumThreads(1);
after(() => {
  setNumThreads(threads);
  rmSync(scratch, { recursive: true, force: true });
});

const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;


for (const [name, wrap] of [['a synchronous source', (l: DataLoader): BatchSource => l], ['an async source', (l: DataLoader): BatchSource => new AsyncSource(l)]] as const) {
test(`10,000 training steps through Learner.fit() with ${name} keep the live-tensor count constant and RSS flat`, async () => {
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  const before = liveTensors();
  const options = resolveTrainOptions({ epochs: 100, batchSize: 4, optimizer: 'adamw', scheduler: 'onecycle', lr: 0.01, seed: 1, augment: 'light' });
  const loader = new DataLoader(tinyDataset(400), {
    batchSize: 4,
    shuffle: true,
    seed: 1,
    mean: TINY_CONFIG.mean,
    std: TINY_CONFIG.std,
    augment: new Augmenter(parseAugment('light'), 1),
  });
  const val = new DataLoader(tinyDataset(30), { batchSize: 16, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  const perEpoch: { live: number; rss: number }[] = [];
  const r = await new Learner({
    model,
    train: wrap(loader),
    val,
    options,
    plan: planExecution({ precision: 'auto', channelsLast: 'auto', device: 'cpu' }),
    callbacks: [{ afterEpoch: (_l: LearnerView) => void perEpoch.push({ live: liveTensors().count, rss: rssMb() }) }],
    quiet: true,
  }).fit();
  assert.equal(r.history.length, 100);
  assert.equal(loader.length * 100, 10_000, '10,000 steps');
  // From the first epoch on, the optimizer's state exists; nothing else may accumulate.
  const counts = new Set(perEpoch.map((e) => e.live));
  assert.equal(counts.size, 1, `live tensors per epoch: ${[...counts].join(', ')}`);
  assert.equal(liveTensors().count, before.count, `the fit disposes its optimizer state: the count is back to the model alone`);
  assert.equal(liveTensors().bytes, before.bytes);
  // RSS after a warm-up (allocator caches, glibc arenas and V8's heap grow to a steady size
  // first). A leaked activation of the conv per step ([4, 4, 8, 8] float32, 4 KiB) would add
  // 36 MB over these 9,000 steps, and a record of about 200 bytes kept per handle until the
  // event loop turns (about 60 tensors a step) 65 MB; this run grows by 2 MB or so. 25 MB
  // leaves room for allocator noise, not for either.
  const growth = perEpoch.at(-1)!.rss - perEpoch[9]!.rss;
  assert.ok(growth < 25, `RSS grew by ${growth.toFixed(1)} MB from step 1,000 to 10,000`);
  assert.ok(r.history.at(-1)!.trainAcc > r.history[0]!.trainAcc, 'the steps really trained');
  model.dispose();
});
}

test('10,000 one-image predictions (the path of tlcv predict) keep the live-tensor count constant and RSS flat', async () => {
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  model.eval();
  const config: ModelFolderConfig = {
    format: 'tlcv-model-1',
    model: 'tiny-test',
    numClasses: 3,
    classes: ['a', 'b', 'c'],
    inputSize: [1, 8, 8],
    mean: [0.5],
    std: [0.5],
    options: {},
    weights: 'model.safetensors',
    provenance: {},
  };
  const files: string[] = [];
  for (let i = 0; i < 8; i += 1) {
    const f = join(scratch, `img-${i}.png`);
    writeFileSync(f, await sharp(Buffer.alloc(12 * 10 * 3, i * 30), { raw: { width: 12, height: 10, channels: 3 } }).png().toBuffer());
    files.push(f);
  }
  const before = liveTensors().count;
  let rssWarm = 0;
  let sum = 0;
  for (let i = 0; i < 10_000; i += 1) {
    // Decoding (sharp, no tensors) on every 10th image keeps the run short; the tensors are all in predictImages.
    const pixels = i % 10 === 0 || i < 8 ? await decodeImage(files[i % 8]!, { channels: 1, height: 8, width: 8 }) : new Uint8Array(64).fill(i % 256);
    const probs = predictImages(model, [pixels], { input: config })[0]!;
    sum += probs.reduce((a, b) => a + b, 0);
    if (i === 1000) rssWarm = rssMb();
    if (i % 2000 === 0) assert.equal(liveTensors().count, before, `live tensors after ${i} predictions`);
  }
  assert.equal(liveTensors().count, before);
  assert.ok(Math.abs(sum - 10_000) < 1e-2, 'every prediction is a distribution');
  // A leaked input or output tensor per image (64 or 3 floats plus its ~100-byte handle) over
  // 9,000 images is a few MB at most, so the count above is the sharp check; RSS guards against
  // native buffers that are not tensors.
  const growth = rssMb() - rssWarm;
  assert.ok(growth < 25, `RSS grew by ${growth.toFixed(1)} MB from image 1,000 to 10,000`);
  model.dispose();
});
