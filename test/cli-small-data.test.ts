// Issue 22, part A, through the real binary: on a folder of 50 photos, `tlcv pretrain` with no
// size flags chooses a batch from the data and enough epochs to learn (a model that beats
// answering the majority class, where the old batch of 128 gave one step an epoch); a run of too
// few optimiser steps says so in one line naming the fix, and a run with enough does not; the
// automatic batch keeps a 224 px run within --max-memory (peak RSS of the process); and the
// measurement behind it changes nothing: the same seed gives the same metrics as the same sizes
// given by hand (and a resumed run reads the chosen sizes from its checkpoint).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeShapeFolder } from './helpers/shape-photos.js';
import { MIN_AUTO_STEPS, readCheckpointSizes } from '../src/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-small-data-'));
after(() => rmSync(root, { recursive: true, force: true }));
const photos = join(root, 'photos');
const CLASSES = 5;

before(async () => {
  await writeShapeFolder(join(photos, 'train'), { classes: CLASSES, perClass: 10, seed: 7 });
  await writeShapeFolder(join(photos, 'test'), { classes: CLASSES, perClass: 12, seed: 8 });
});

const metrics = (dir: string): Record<string, number>[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);

function runMeasured(args: string[]): { code: number; stdout: string; stderr: string; peakRss: number } {
  const hook = 'data:text/javascript,process.on("exit",()=>process.stderr.write("tlcv-peak-rss "+process.resourceUsage().maxRSS+"\\n"))';
  const r = runCli(args, { nodeArgs: ['--import', hook] });
  const m = /tlcv-peak-rss (\d+)/.exec(r.stderr);
  return { ...r, peakRss: m ? Number(m[1]) * 1024 : NaN };
}

test('50 photos, no flags: a batch from the data, enough epochs, and a model better than the majority class', () => {
  const out = join(root, 'auto');
  const r = runCli(['pretrain', '--data', `folder:${photos}:train`, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  // 45 training images after the validation split: batch 4 (an eighth, a power of two).
  assert.match(r.stderr, /chose batch 4 \(at most an eighth of 45 training images/);
  assert.doesNotMatch(r.stderr, /warning/);
  const epochs = metrics(out);
  assert.ok(epochs.length * Math.ceil(45 / 4) >= MIN_AUTO_STEPS, `${epochs.length} epochs`);
  const ev = runCli(['evaluate', '--model', out, '--data', `folder:${photos}:test`, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const { accuracy } = JSON.parse(ev.stdout) as { accuracy: number };
  console.log(`test accuracy ${(accuracy * 100).toFixed(1)}% over ${CLASSES} balanced classes`);
  assert.ok(accuracy > 1 / CLASSES + 0.1, `accuracy ${accuracy} against ${1 / CLASSES} for the majority class`);
});

test('too few optimiser steps: one warning line naming the fix', () => {
  const r = runCli(['pretrain', '--data', `folder:${photos}:train`, '--out', join(root, 'few'), '--epochs', '2', '--batch-size', '64', '--precision', 'fp32', '--channels-last', 'off']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /2 optimiser steps .* too few to learn from: try --epochs \d+ or --batch-size 4$/);
});

test('the same seed gives the same metrics whether the sizes were chosen (and a step measured) or given', () => {
  const chosen = join(root, 'chosen');
  const given = join(root, 'given');
  const pinned = ['--epochs', '2', '--precision', 'fp32', '--channels-last', 'off', '--seed', '3'];
  const a = runCli(['pretrain', '--data', `folder:${photos}:train`, '--out', chosen, '--keep-checkpoint', ...pinned]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /a step measured at [\d.]+ MB an image/);
  const b = runCli(['pretrain', '--data', `folder:${photos}:train`, '--out', given, '--batch-size', '4', ...pinned]);
  assert.equal(b.code, 0, b.stderr);
  assert.doesNotMatch(b.stderr, /chose batch/);
  const strip = (rows: Record<string, number>[]): Record<string, number>[] => rows.map(({ seconds: _s, imagesPerSec: _i, ...rest }) => rest);
  assert.deepEqual(strip(metrics(chosen)), strip(metrics(given)));
  // A --resume of the chosen run reads the sizes it chose from its checkpoint.
  assert.deepEqual(readCheckpointSizes(chosen), { batchSize: 4, epochs: 2 });
});

test('at 224 px the automatic batch keeps peak RSS within --max-memory', () => {
  const budget = 800 * 2 ** 20;
  const r = runMeasured(['pretrain', '--arch', 'mobilenet_v2', '--data', `folder:${photos}:train`, '--out', join(root, 'mem'), '--max-memory', '800M', '--epochs', '1', '--precision', 'fp32', '--channels-last', 'off']);
  assert.equal(r.code, 0, r.stderr);
  // mobilenet_v2 keeps about 80 MB an image at 224 px: the budget, not the data (batch 4), sets the batch.
  const m = /chose batch (\d+) \(within --max-memory/.exec(r.stderr);
  assert.ok(m !== null, r.stderr);
  assert.ok(Number(m[1]) < 4, `batch ${m[1]}`);
  console.log(`batch ${m[1]}: peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB of the 800 MiB budget`);
  assert.ok(r.peakRss <= budget, `peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB`);
});
