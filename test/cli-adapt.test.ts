// `tlcv adapt` through the real binary: bad flags and data (exit 2, one line, nothing written;
// adabn on a model without BatchNorm says so), target labels never read (the same target
// images with scrambled labels give byte-identical weights, for each method), the output is a
// model folder with source and target curves that `evaluate` takes, and any folder pair (the
// README's example: a target folder whose one subfolder's name means nothing) works end to end.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { encodeIdx, loadDataset, legacyPreprocess } from '../src/data/index.js';
import { saveModelFolder } from '../src/runs/index.js';
import { encodePng } from '../src/report/index.js';
import { readMetricsFile } from '../src/train/index.js';
import { assertUserError, runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-adapt-'));
after(() => rmSync(root, { recursive: true, force: true }));
const cnn = join(root, 'cnn');
const mobilenet = join(root, 'mobilenet');
const digits = Array.from({ length: 10 }, (_, i) => String(i));
const target = { true: '', scrambled: '' };
const quick = ['--source', 'mnist:train@k=2,seed=1', '--val', 'none', '--epochs', '1', '--batch-size', '16', '--precision', 'fp32', '--channels-last', 'off', '--quiet'];

before(async () => {
  manualSeed(3);
  const a = createModel('seed-cnn', { numClasses: 10 });
  saveModelFolder(cnn, a, { classes: digits, preprocess: legacyPreprocess(a.config) });
  a.dispose();
  // A small model with BatchNorm, for adabn.
  const b = createModel('mobilenet_v2_035', { numClasses: 10, inChannels: 1, inputSize: [32, 32] });
  saveModelFolder(mobilenet, b, { classes: digits, preprocess: legacyPreprocess(b.config) });
  b.dispose();
  // Target images as IDX files: once with their labels, once with labels that say nothing.
  const shifted = await loadDataset('mnist:test@k=3,seed=4,shift=rotate:30');
  const images = join(root, 'target-images.idx');
  writeFileSync(images, encodeIdx([shifted.n, 28, 28], shifted.images));
  writeFileSync(join(root, 'labels.idx'), encodeIdx([shifted.n], Uint8Array.from(shifted.labels)));
  writeFileSync(join(root, 'scrambled.idx'), encodeIdx([shifted.n], Uint8Array.from(shifted.labels, (y, i) => (y + 3 + (i % 5)) % 10)));
  target.true = `idx:${images},${join(root, 'labels.idx')}`;
  target.scrambled = `idx:${images},${join(root, 'scrambled.idx')}`;
});

let n = 0;
function fails(args: (out: string) => string[], line: RegExp): void {
  const out = join(root, `bad-${(n += 1)}`);
  assertUserError(args(out), line, { out, ignore: /^source model:/ });
}

test('bad flags and data: exit 2 with one line naming what is wrong', () => {
  const a = (out: string, ...rest: string[]): string[] => ['adapt', '--model', cnn, '--target', 'mnist:test@k=1', '--out', out, ...rest];
  fails((o) => a(o, '--method', 'adabn', '--quiet'), /^tlcv adapt: adabn recomputes BatchNorm statistics, but seed-cnn has no BatchNorm layer: use dann or pseudo-label with this model, or a model with BatchNorm \(resnet18, mobilenet_v2\)$/);
  fails((o) => a(o, '--method', 'dann'), /^tlcv adapt: --source is required for --method dann \(it trains on labelled source images\)$/);
  fails((o) => a(o, '--method', 'mixup'), /^tlcv adapt: --method: expected one of adabn\|dann\|pseudo-label, got "mixup"$/);
  fails((o) => a(o, '--method', 'pseudo-label', '--source', 'mnist:train@k=1', '--threshold', '1.5'), /^tlcv adapt: --threshold: expected a number <= 1, got "1\.5"$/);
  fails((o) => a(o, '--method', 'dann', '--source', 'mnist:train@k=1', '--tradeoff', '-1'), /^tlcv adapt: --tradeoff: expected a number >= 0, got "-1"$/);
  fails((o) => ['adapt', '--model', cnn, '--method', 'dann', '--out', o], /^tlcv adapt: --target is required/);
  fails((o) => a(o, '--method', 'dann', '--source', 'mnist:train@k=1', '--target-test', 'mnist:test@shift=spin'), /^tlcv adapt: invalid modifier in data spec "mnist:test@shift=spin"/);
  fails((o) => ['adapt', '--model', join(root, 'nowhere'), '--method', 'adabn', '--target', 'mnist:test', '--out', o], /^tlcv adapt: --model .*nowhere: no such model folder or weights file, and not a zoo model/);
});

/** Runs one adaptation on both target label files; returns the two folders' weights. */
function twice(method: string, from: string, extra: string[]): [Buffer, Buffer, string] {
  const dirs = ['true', 'scrambled'].map((which) => join(root, `${method}-${which}`));
  dirs.forEach((out, i) => {
    const r = runCli(['adapt', '--model', from, '--method', method, '--target', i === 0 ? target.true : target.scrambled, '--out', out, ...quick, ...extra]);
    assert.equal(r.code, 0, `${method}: ${r.stderr}`);
    if (i === 0) assert.match(r.stdout, /^wrote .* \(\d+\.\ds\); target test accuracy \d+\.\d\d% \(source-only\) -> \d+\.\d\d% \(/);
  });
  const [a, b] = dirs.map((d) => readFileSync(join(d, 'model.safetensors')));
  return [a!, b!, dirs[0]!];
}

test('dann: target labels are never read; the folder has source and target curves and evaluates', () => {
  const [a, b, dir] = twice('dann', cnn, ['--target-test', 'mnist:test@k=2,seed=8,shift=rotate:30', '--epochs', '2']);
  assert.ok(a.equals(b), 'scrambled target labels give the same weights');
  const history = readMetricsFile(dir);
  assert.equal(history.length, 2);
  assert.ok(history.every((e) => Number.isFinite(e.trainAcc) && Number.isFinite(e.targetAcc) && Number.isFinite(e.targetLoss)));
  const report = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.match(report, /target test/);
  assert.match(report, /Source-only against adapted/);
  const r = runCli(['evaluate', '--model', dir, '--data', 'mnist:test@k=1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { n: number }).n, 10);
});

test('pseudo-label: target labels are never read', () => {
  const [a, b] = twice('pseudo-label', cnn, ['--target-test', 'mnist:test@k=2,seed=8,shift=rotate:30', '--rounds', '2', '--threshold', '0']);
  assert.ok(a.equals(b), 'scrambled target labels give the same weights');
});

test('adabn on a model with BatchNorm: target labels are never read; source data only scored', () => {
  const [a, b, dir] = twice('adabn', mobilenet, ['--target-test', 'mnist:test@k=2,seed=8,shift=rotate:30']);
  assert.ok(a.equals(b), 'scrambled target labels give the same statistics');
  assert.equal(existsSync(join(dir, 'metrics.jsonl')), false, 'adabn trains no epochs');
  assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /BatchNorm layers/);
});

test('any folder pair: a model trained on one folder adapts to an unlabelled folder of other images', async () => {
  // Source digits in class folders; target digits rotated, all in one folder whose name means nothing.
  const write = async (dir: string, spec: string, byClass: boolean): Promise<void> => {
    const ds = await loadDataset(spec);
    for (let i = 0; i < ds.n; i += 1) {
      const sub = join(dir, byClass ? ds.classes[ds.labels[i]!]! : 'any');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `${i}.png`), await encodePng(ds.images.subarray(i * 784, (i + 1) * 784), 1, 28, 28));
    }
  };
  const src = join(root, 'photos-source');
  const tgt = join(root, 'photos-target');
  const tst = join(root, 'photos-target-test');
  await write(src, 'mnist:train@k=3,seed=5', true);
  await write(tgt, 'mnist:test@k=2,seed=6,shift=rotate:20', false);
  await write(tst, 'mnist:test@k=1,seed=7,shift=rotate:20', true);
  const model = join(root, 'folder-model');
  const fp32 = ['--precision', 'fp32', '--channels-last', 'off', '--quiet'];
  let r = runCli(['pretrain', '--data', `folder:${src}`, '--arch', 'seed-cnn', '--epochs', '1', '--val', 'none', '--out', model, ...fp32]);
  assert.equal(r.code, 0, r.stderr);
  const out = join(root, 'folder-adapted');
  r = runCli(['adapt', '--model', model, '--source', `folder:${src}`, '--target', `folder:${tgt}`, '--target-test', `folder:${tst}`, '--method', 'pseudo-label', '--rounds', '1', '--epochs', '1', '--val', 'none', '--out', out, ...fp32]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /target test accuracy \d+\.\d\d% \(source-only\) -> \d+\.\d\d% \(pseudo-label\)/);
  r = runCli(['evaluate', '--model', out, '--data', `folder:${tst}`, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { n: number }).n, 10);
});
