// `tlcv doctor` through the real binary: a photo folder with an imbalanced class, a resized
// copy, a gray, an RGBA and a tiny image (JSON findings, the HTML report with thumbnails,
// --strict's exit code), a clean folder (nothing found, --strict exits 0), --model (a seeded
// seed-cnn's features find cross-split copies of digits), and user errors (exit 2, one line).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { manualSeed } from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { legacyPreprocess } from '../src/data/index.js';
import { load, modelFeatures, saveModelFolder } from '../src/runs/index.js';
import type { DoctorReport } from '../src/doctor/index.js';
import { assertUserError, runCli } from './helpers/cli.js';
import { writePhoto } from './helpers/photos.js';
import { plantedDigits } from './helpers/doctor-folder.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-doctor-'));
after(() => rmSync(root, { recursive: true, force: true }));

function doctor(args: string[]): { code: number; report: DoctorReport; stderr: string } {
  const r = runCli(['doctor', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport, stderr: r.stderr };
}

test('a photo folder: imbalance with weights, a resized copy, mixed modes, a tiny image, and the HTML report', async () => {
  const dir = join(root, 'photos');
  for (let i = 0; i < 12; i += 1) await writePhoto(join(dir, 'cat', `${i}.jpg`), { width: 96, height: 72, seed: i });
  for (let i = 0; i < 3; i += 1) await writePhoto(join(dir, 'dog', `${i}.jpg`), { width: 96, height: 72, seed: 100 + i });
  // A resized and re-encoded copy of cat/0, filed under dog.
  writeFileSync(join(dir, 'dog', 'copy.jpg'), await sharp(join(dir, 'cat', '0.jpg')).resize(150, 112).jpeg({ quality: 70 }).toBuffer());
  // Three more cats, new pictures (a gray or RGBA copy of a picture would be its near duplicate).
  await writePhoto(join(root, 'src', 'a.jpg'), { width: 96, height: 72, seed: 50 });
  await writePhoto(join(root, 'src', 'b.jpg'), { width: 96, height: 72, seed: 51 });
  await writePhoto(join(root, 'src', 'c.jpg'), { width: 96, height: 72, seed: 52 });
  writeFileSync(join(dir, 'cat', 'gray.png'), await sharp(join(root, 'src', 'a.jpg')).toColourspace('b-w').png().toBuffer());
  writeFileSync(join(dir, 'cat', 'alpha.png'), await sharp(join(root, 'src', 'b.jpg')).ensureAlpha(0.5).png().toBuffer());
  writeFileSync(join(dir, 'cat', 'tiny.png'), await sharp(join(root, 'src', 'c.jpg')).resize(6, 6).png().toBuffer());
  const html = join(root, 'photos.html');
  const { code, report } = doctor(['--data', `folder:${dir}`, '--out', html, '--label-errors', 'false']);
  assert.equal(code, 0, 'findings do not fail the run without --strict');
  assert.deepEqual(report.splits, { all: 19 });
  const [all] = report.balance;
  assert.deepEqual(all!.counts, [15, 4]);
  assert.ok(all!.imbalanced && Math.abs(all!.ratio - 15 / 4) < 1e-9);
  assert.deepEqual(all!.weights.map((w) => Number(w.toFixed(4))), [Number((19 / 30).toFixed(4)), Number((19 / 8).toFixed(4))]);
  assert.deepEqual(report.nearDuplicates.map((p) => p.files.map((f) => f.path).sort()), [['cat/0.jpg', 'dog/copy.jpg']]);
  assert.equal(report.modes.mixed, true);
  assert.deepEqual(report.modes.counts, { gray: 1, rgb: 17, alpha: 1 });
  assert.deepEqual(report.modes.minority.map((m) => m.path).sort(), ['cat/alpha.png', 'cat/gray.png']);
  assert.deepEqual(report.sizes.tiny.map((t) => t.path), ['cat/tiny.png']);
  assert.equal(report.settings.labelErrors, null);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /Near duplicates \(1\)/);
  assert.match(page, /Colour modes mixed \(2\)/);
  assert.match(page, /Class balance/);
  assert.ok((page.match(/<img src="data:image\/png;base64,/g) ?? []).length >= 5, 'thumbnails inline');
  assert.doesNotMatch(page, /<script|https?:\/\//);
  assert.equal(runCli(['doctor', '--data', `folder:${dir}`, '--out', html, '--label-errors', 'false', '--strict']).code, 1, '--strict: findings exit 1');
});

test('a clean folder: nothing found, --strict exits 0, the text summary says so', async () => {
  const dir = join(root, 'clean');
  for (let i = 0; i < 6; i += 1) {
    await writePhoto(join(dir, 'train', 'a', `${i}.jpg`), { width: 64, height: 64, seed: 200 + i });
    await writePhoto(join(dir, 'train', 'b', `${i}.jpg`), { width: 64, height: 64, seed: 300 + i });
  }
  for (let i = 0; i < 2; i += 1) {
    await writePhoto(join(dir, 'test', 'a', `${i}.jpg`), { width: 64, height: 64, seed: 400 + i });
    await writePhoto(join(dir, 'test', 'b', `${i}.jpg`), { width: 64, height: 64, seed: 500 + i });
  }
  const r = runCli(['doctor', '--data', `folder:${dir}`, '--out', join(root, 'clean.html'), '--label-errors', 'false', '--strict']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^folder:.*: 16 images in train 12, test 4; 2 classes\nno problems found\nreport: /);
  // One split named: only its images are read.
  assert.equal(doctor(['--data', `folder:${dir}:test`, '--out', join(root, 'clean.html'), '--label-errors', 'false']).report.images, 4);
});

test("--model: near pairs and the probe use the model's features (the scores are their cosines)", async () => {
  const dir = join(root, 'digits');
  await plantedDigits(dir, { trainPerClass: 12, testPerClass: 4, leakNear: 3, seed: 5 });
  const model = join(root, 'seed-cnn');
  manualSeed(5);
  const m = createModel('seed-cnn', { numClasses: 10 });
  saveModelFolder(model, m, { classes: Array.from({ length: 10 }, (_, i) => String(i)), preprocess: legacyPreprocess(m.config) });
  m.dispose();
  const { report } = doctor(['--data', `folder:${dir}`, '--model', model, '--out', join(root, 'digits.html'), '--near-threshold', '0.99']);
  assert.equal(report.settings.near, 'model');
  assert.equal(report.settings.nearThreshold, 0.99);
  assert.deepEqual(report.settings.labelErrors, { features: 'model', folds: 5 });
  // An untrained network's features say little about digits, so only the plumbing is checked:
  // each reported score is the cosine of the two files' features computed here.
  const loaded = await load(model);
  try {
    const features = modelFeatures(loaded);
    const pairs = report.nearDuplicates.slice(0, 4);
    assert.ok(pairs.length > 0, 'an untrained seed-cnn maps some digits nearly alike');
    for (const p of pairs) {
      const [a, b] = await features(p.files.map((f) => join(dir, f.path)));
      let [ab, aa, bb] = [0, 0, 0];
      for (let k = 0; k < a!.length; k += 1) [ab, aa, bb] = [ab + a![k]! * b![k]!, aa + a![k]! ** 2, bb + b![k]! ** 2];
      const cos = ab / Math.sqrt(aa * bb);
      assert.ok(Math.abs(cos - p.score) < 1e-4 && cos >= 0.99 - 1e-6, `${p.files[0].path} ~ ${p.files[1].path}: ${cos} vs ${p.score}`);
    }
  } finally {
    loaded.dispose();
  }
});

test('user errors: exit 2 with one line, no report written', () => {
  const out = join(root, 'never.html');
  mkdirSync(join(root, 'empty'), { recursive: true });
  assertUserError(['doctor', '--data', 'mnist:train', '--out', out], /tlcv doctor: tlcv doctor checks image folders/, { out });
  assertUserError(['doctor', '--data', `folder:${join(root, 'nope')}`, '--out', out], /image folder .*nope does not exist/, { out });
  assertUserError(['doctor', '--data', `folder:${join(root, 'photos')}@k=2`, '--out', out], /leave out the modifiers/, { out });
  assertUserError(['doctor', '--data', `folder:${join(root, 'empty')}`, '--out', out], /has no class folders/, { out });
  assertUserError(['doctor', '--data', `folder:${join(root, 'photos')}`, '--near', 'sift', '--out', out], /--near: expected one of/, { out });
  assertUserError(['doctor', '--out', out], /--data is required/, { out });
  assert.equal(existsSync(out), false);
});
