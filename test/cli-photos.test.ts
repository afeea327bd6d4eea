// The original bug report, end to end through the real binary on a folder of phone-size JPEGs
// (some portrait, some EXIF-rotated): with no size flags, pretrain picks 224 px for resnet18
// and 64 px for seed-cnn and records the crop in the model folder; evaluate and predict apply
// that record, and predict's probabilities for a raw photo equal those of evaluation's
// preprocessing of it; peak RSS does not grow with the number of photos.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, isFileDataset, preprocessImageFile, readFileBatch } from '../src/data/index.js';
import { F, inferenceMode, tidy } from '../src/tensor/index.js';
import { load, loadForModel } from '../src/runs/index.js';
import type { PredictionReport } from '../src/deploy/index.js';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { writePhoto } from './helpers/photos.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-photos-'));
after(() => rmSync(root, { recursive: true, force: true }));

// A pinned plan: nothing to time, so the runs stay short on a busy machine.
const FAST = ['--epochs', '1', '--batch-size', '4', '--precision', 'fp32', '--channels-last', 'off'];
const PHOTOS = 12;
const probe = join(root, 'probe', 'any', 'raw.jpg');

before(async () => {
  for (let i = 0; i < PHOTOS; i += 1) {
    const portrait = i % 4 === 3;
    const cls = i % 2 === 0 ? 'disc' : 'square';
    // Every sixth photo is stored sideways with EXIF orientation 6, as phones do.
    await writePhoto(join(root, 'photos', 'train', cls, `${i}.jpg`), { width: portrait ? 1200 : 1600, height: portrait ? 1600 : 1200, seed: i, orientation: i % 6 === 5 ? 6 : 1 });
  }
  // Four times the folder, as hard links: the same decoding work per file, four times the files.
  for (const cls of ['disc', 'square']) {
    const from = join(root, 'photos', 'train', cls);
    const to = join(root, 'many', cls);
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from)) for (let k = 0; k < 4; k += 1) linkSync(join(from, f), join(to, `${k}-${f}`));
  }
  await writePhoto(probe, { width: 1200, height: 1600, seed: 99, orientation: 6 });
});

/** Runs the CLI with a hook that prints the process's peak RSS (bytes) as it exits. */
function runMeasured(args: string[]): { code: number; stdout: string; stderr: string; peakRss: number } {
  const hook = 'data:text/javascript,process.on("exit",()=>process.stderr.write("tlcv-peak-rss "+process.resourceUsage().maxRSS+"\\n"))';
  const r = runCli(args, { nodeArgs: ['--import', hook] });
  const m = /tlcv-peak-rss (\d+)/.exec(r.stderr);
  return { ...r, peakRss: m ? Number(m[1]) * 1024 : NaN };
}

const config = (dir: string): { inputSize: number[]; preprocess: Record<string, unknown> } => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
let peak12 = NaN;

test('pretrain resnet18 on phone photos with no size flags: 224 px, crop_pct 0.875, aspect kept, a validation split, the record saved', () => {
  const out = join(root, 'r18');
  const r = runMeasured(['pretrain', '--arch', 'resnet18', '--data', `folder:${join(root, 'photos')}:train`, '--out', out, ...FAST]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  peak12 = r.peakRss;
  const c = config(out);
  assert.deepEqual(c.inputSize, [3, 224, 224]);
  assert.deepEqual(
    { ...c.preprocess, train: undefined },
    { input_size: [3, 224, 224], resize: 'aspect', crop_pct: 0.875, crop_mode: 'center', interpolation: 'bilinear', background: 'black', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], train: undefined },
  );
  assert.deepEqual(c.preprocess.train, { random_resized_crop: { scale: [0.08, 1], ratio: [0.75, 4 / 3] }, hflip: true });
  // --val defaults to 0.1: the streaming folder was split, and each epoch validated.
  assert.match(r.stderr, /\d+ training images, \d+ validation images/);
  const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { valAcc?: number });
  assert.ok(epochs.length === 1 && epochs[0]!.valAcc !== undefined, 'one epoch with a validation accuracy');
});

test('pretrain seed-cnn on the same photos: 64 px (its classifier grows with the input), RGB', () => {
  const out = join(root, 'seed');
  const r = runCli(['pretrain', '--arch', 'seed-cnn', '--data', `folder:${join(root, 'photos')}:train`, '--out', out, '--val', 'none', ...FAST]);
  assert.equal(r.code, 0, r.stderr);
  const c = config(out);
  assert.deepEqual([c.inputSize, c.preprocess.input_size, c.preprocess.crop_pct], [[3, 64, 64], [3, 64, 64], 0.875]);
});

test("predict on a raw phone photo gives the probabilities of evaluation's preprocessing of it; evaluate streams the folder with the record", async () => {
  const model = join(root, 'r18');
  const pr = runCli(['predict', '--model', model, probe, '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const predicted = (JSON.parse(pr.stdout) as PredictionReport).predictions[0]!.probabilities;

  const m = await load(model);
  try {
    const data = await loadForModel(`folder:${join(root, 'probe')}`, m.module, { preprocess: m.preprocess! });
    assert.ok(isFileDataset(data), 'a photo folder streams');
    // The bytes: evaluation's batch reader and predict's single-image path agree exactly.
    const batchBytes = (await readFileBatch(data, Int32Array.of(0), 0, 0)).bytes;
    assert.deepEqual(await preprocessImageFile(probe, m.preprocess!), batchBytes);
    const loader = new DataLoader(data, { batchSize: 1, mean: m.module.config.mean, std: m.module.config.std });
    const probs: number[][] = [];
    for await (const b of loader) {
      probs.push(inferenceMode(() => tidy(() => F.softmax(m.module.forward(b.x), 1).toFlatArray())));
      b.x.dispose();
      b.y.dispose();
    }
    assert.equal(probs.length, 1);
    assert.equal(predicted.length, probs[0]!.length);
    for (let k = 0; k < predicted.length; k += 1) assert.ok(Math.abs(predicted[k]! - probs[0]![k]!) < 1e-5, `class ${k}: predict ${predicted[k]}, evaluation ${probs[0]![k]}`);
  } finally {
    m.dispose();
  }

  const ev = runCli(['evaluate', '--model', model, '--data', `folder:${join(root, 'photos')}:train`, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const report = JSON.parse(ev.stdout) as { n: number; top5?: number; worst: { index: number; file?: string }[] };
  assert.equal(report.n, PHOTOS);
  // Two classes: top-5 would hold every answer, and is left out. The worst images are named by file.
  assert.equal(report.top5, undefined);
  assert.ok(report.worst.length > 0 && report.worst.every((w) => typeof w.file === 'string' && w.file.startsWith(join(root, 'photos', 'train')) && w.file.endsWith('.jpg')), JSON.stringify(report.worst));
});

test('peak RSS does not grow with the number of photos (4x the folder, --cache-images off)', () => {
  assert.ok(Number.isFinite(peak12), 'the 12-photo run measured its peak RSS');
  const r = runMeasured(['pretrain', '--arch', 'resnet18', '--data', `folder:${join(root, 'many')}`, '--out', join(root, 'r18-many'), '--cache-images', 'off', ...FAST]);
  assert.equal(r.code, 0, r.stderr);
  console.log(`peak RSS: ${PHOTOS} photos ${mib(peak12)}, ${PHOTOS * 4} photos ${mib(r.peakRss)}`);
  // Decoded whole, 36 more photos of 1600x1200 would add 200 MiB; streamed, a few MiB of index.
  assert.ok(r.peakRss - peak12 < 96 * 2 ** 20, `peak RSS grew from ${mib(peak12)} to ${mib(r.peakRss)}`);
  assert.ok(r.peakRss < 1.5 * 2 ** 30, `peak RSS ${mib(r.peakRss)} for 48 photos`);
});
