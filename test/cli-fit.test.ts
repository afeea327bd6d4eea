// tlcv fit through the real binary on a small photo folder with a tiny budget (issue 22, part B):
// it writes an ordinary model folder that evaluate and predict use as they are, and fit.json and
// report.md hold the leaderboard, every rung on it either run (with its validation accuracy) or
// skipped with the reason. No assertion on time: the budget logic is tested in fit-ladder.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { writeShapeFolder } from './helpers/shape-photos.js';
import { load, validationData, validationLogits } from '../src/runs/index.js';
import { liveTensors } from '../src/tensor/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-fit-'));
after(() => rmSync(root, { recursive: true, force: true }));
const photos = join(root, 'photos');
const source = join(root, 'source');

before(async () => {
  await writeShapeFolder(photos, { classes: 3, perClass: 6, seed: 3, width: 160, height: 120 });
  // A model folder to start from: one short epoch of seed-cnn on the same photos.
  const r = runCli(['pretrain', '--data', `folder:${photos}`, '--epochs', '1', '--batch-size', '8', '--out', source, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
});

interface Row {
  strategy: string;
  backbone: string;
  score: number | null;
  status: string;
  note?: string;
}

test('tlcv fit --model DIR --budget 20s: a model folder that evaluates and predicts, and the leaderboard in fit.json and report.md', () => {
  const out = join(root, 'fit');
  const r = runCli(['fit', '--data', `folder:${photos}`, '--model', source, '--budget', '20s', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /fit: candidates: the model folder/);
  // 6 images a class: k-fold.
  assert.match(r.stderr, /3-fold stratified validation/);
  const fitJson = JSON.parse(readFileSync(join(out, 'fit.json'), 'utf8')) as { leaderboard: Row[]; kept: Row; validation: { kind: string; val: string }; budgetSeconds: number; refit: boolean; calibration: { temperature: number; threshold: number } | null };
  assert.equal(fitJson.budgetSeconds, 20);
  // Issue 23 inside fit: the doctor's quick look before training, then calibration or why not.
  assert.match(r.stderr, /^fit: data check: folder:.*: 18 images in .*; 3 classes$/m);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { calibration?: unknown };
  // Calibration is fitted on the held-out fold before any refit on every image, and kept by it
  // (scikit-learn's CalibratedClassifierCV with ensemble=False does the same).
  if (fitJson.calibration === null) {
    assert.match(r.stderr, /fit: not calibrated: a pass over the validation split/);
    assert.equal(config.calibration, undefined);
  } else {
    assert.match(r.stderr, /fit: calibration on \d+ validation images: temperature/);
    assert.deepEqual(config.calibration, fitJson.calibration);
    if (fitJson.refit) assert.match(r.stderr, /trained again on all 18 images with the recipe validation chose \(the kept model is this one, with the calibration fitted before\)/);
  }
  assert.equal(fitJson.validation.kind, 'kfold');
  assert.deepEqual(
    fitJson.leaderboard.map((e) => e.strategy),
    ['ncm', 'knn', 'probe', 'feature-extraction', 'fine-tune', 'fine-tune, lr-find', 'fine-tune, longer'],
  );
  const done = fitJson.leaderboard.filter((e) => e.status === 'done');
  assert.ok(done.length >= 1, JSON.stringify(fitJson.leaderboard));
  for (const e of fitJson.leaderboard) {
    if (e.status === 'done') assert.ok(e.score !== null && e.score >= 0 && e.score <= 1);
    else assert.match(e.note ?? '', /would take about|not applicable|interrupted/, JSON.stringify(e));
  }
  // The kept one is the best that ran, or ran earlier and is within fit's margin of it: a later,
  // costlier rung must win by more than one validation image (one of the 18 that k-fold scores).
  const best = Math.max(...done.map((e) => e.score!));
  assert.ok(fitJson.kept.score! >= best - 1 / 18 - 1e-9, `kept ${fitJson.kept.score} against the best ${best}`);
  const keptAt = fitJson.leaderboard.findIndex((e) => e.strategy === fitJson.kept.strategy && e.backbone === fitJson.kept.backbone);
  assert.ok(fitJson.leaderboard.slice(0, keptAt).every((e) => e.status !== 'done' || e.score! <= fitJson.kept.score! + 1 / 18 + 1e-9), 'no earlier rung beat it by more than the margin');
  assert.match(r.stdout, new RegExp(`wrote .* ${fitJson.kept.strategy} on`));
  console.log(r.stdout.trim());
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /\| strategy \| backbone \| validation accuracy \|/);
  assert.match(report, new RegExp(`\\| ${fitJson.kept.strategy} \\|.*kept`));
  // An ordinary model folder.
  const ev = runCli(['evaluate', '--model', out, '--data', `folder:${photos}`, '--json', '--engine', 'libtorch']);
  assert.equal(ev.code, 0, ev.stderr);
  const { accuracy } = JSON.parse(ev.stdout) as { accuracy: number };
  assert.ok(accuracy >= 0 && accuracy <= 1);
  const cls = readdirSync(photos)[0]!;
  const file = join(photos, cls, readdirSync(join(photos, cls))[0]!);
  const pr = runCli(['predict', '--model', out, file, '--json', '--engine', 'libtorch']);
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, /"probability"|"prob"|"label"|"class"/);
});

test('the kept model\'s validation split and its logits, for the steps after fit (issue 23)', async () => {
  const out = join(root, 'fit');
  const fitJson = JSON.parse(readFileSync(join(out, 'fit.json'), 'utf8')) as { validation: { val: string; seed: number }; refit: boolean; tta: { without: number; with: number; used: boolean } | null };
  const live = liveTensors();
  const m = await load(out, { engine: 'libtorch' });
  try {
    assert.equal(m.tta, fitJson.tta?.used ?? false);
    const val = await validationData(m, `folder:${photos}`, fitJson.validation);
    // Fold 0 of 3 over 3 classes of 6: 2 images a class.
    assert.equal(val.n, 6);
    const { logits, labels, classes } = await validationLogits(m, val);
    assert.equal(classes, 3);
    assert.equal(logits.length, val.n * classes);
    let right = 0;
    for (let i = 0; i < val.n; i += 1) {
      const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
      if (row.indexOf(Math.max(...row)) === labels[i]) right += 1;
    }
    // The logits give the accuracy evaluate gives on the same images (and fit reported).
    const ev = await m.evaluate(val);
    assert.equal(right / val.n, ev.accuracy);
    // Fold 0's model (not trained again on every image) scores on its split what fit measured there.
    if (!fitJson.refit && fitJson.tta !== null) assert.equal(ev.accuracy, fitJson.tta.used ? fitJson.tta.with : fitJson.tta.without);
  } finally {
    m.dispose();
  }
  assert.equal(liveTensors().count, live.count);
});

test('tlcv fit: a bad --budget or a non-empty --out is one line and exit 2', () => {
  const bad = runCli(['fit', '--data', `folder:${photos}`, '--budget', 'soon', '--out', join(root, 'x')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--budget: expected a time of at least 1s/);
  const busy = runCli(['fit', '--data', `folder:${photos}`, '--out', source]);
  assert.equal(busy.code, 2);
  assert.match(busy.stderr, /is not empty: give another folder or --overwrite/);
  assert.doesNotMatch(busy.stderr, /\n\s+at /);
});
