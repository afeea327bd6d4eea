// Calibrated answers and "unknown" end to end (issue 23, part 2): a model trained on MNIST
// digits 0-4 with --unknown auto, and digits 5-9 held out as unknown. On held-out known digits the
// temperature lowers ECE and changes no argmax, the threshold rejects about its target rate, the
// score tells unknown digits from known (AUROC), and `predict --json`, `serve`, the exported
// ONNX graph in onnxruntime and the offline web page in chromium answer unknown for the same files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { chromium } from 'playwright-core';
import { loadDataset, type ImageDataset } from '../src/data/index.js';
import { auroc, expectedCalibrationError, rejectionRate, softmaxRows } from '../src/metrics/index.js';
import { onnx } from '../src/deploy/onnx-builder.js';
import type { PredictionReport } from '../src/deploy/index.js';
import { datasetLogits, load, readModelConfig } from '../src/runs/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { runCli } from './helpers/cli.js';

const CHROMIUM = '/usr/bin/chromium';
let root: string;
let folder: string;
let known: ImageDataset;
let unknown: ImageDataset;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-open-set-'));
  folder = join(root, 'digits');
  const r = runCli(['pretrain', '--data', 'mnist:train@classes=0-4,frac=0.5', '--out', folder, '--val', '0.25', '--epochs', '2', '--unknown', 'auto', '--seed', '1', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /calibration on \d+ validation images: temperature [\d.]+, ECE [\d.]+% -> [\d.]+%/);
  known = (await loadDataset('mnist:test@classes=0-4')) as ImageDataset;
  unknown = (await loadDataset('mnist:test@classes=5-9')) as ImageDataset;
});

after(() => rmSync(root, { recursive: true, force: true }));

const argmax = (row: ArrayLike<number>, at: number, k: number): number => {
  let b = 0;
  for (let c = 1; c < k; c += 1) if (row[at + c]! > row[at + b]!) b = c;
  return b;
};

test('on held-out known digits the temperature lowers ECE and keeps every argmax; the threshold rejects near its target and AUROC tells 5-9 from 0-4', async () => {
  const live = liveTensors().count;
  const { calibration } = readModelConfig(folder);
  assert.ok(calibration, 'config.json has the calibration record');
  assert.equal(calibration.score, 'max-softmax');
  assert.ok(calibration.eceAfter < calibration.eceBefore, `validation ECE ${calibration.eceBefore} -> ${calibration.eceAfter}`);
  const m = await load(folder, { engine: 'libtorch' });
  try {
    const { logits, labels } = await datasetLogits(m.module, known);
    const raw = softmaxRows(logits, 5, 1);
    const scaled = softmaxRows(logits, 5, calibration.temperature);
    const before = expectedCalibrationError(raw, labels, 5);
    const afterT = expectedCalibrationError(scaled, labels, 5);
    console.log(`held-out digits 0-4 (${labels.length}): ECE ${(before * 100).toFixed(2)}% -> ${(afterT * 100).toFixed(2)}% at T=${calibration.temperature.toFixed(3)}`);
    assert.ok(afterT < before, `held-out ECE ${before} -> ${afterT}`);
    for (let i = 0; i < labels.length; i += 1) assert.equal(argmax(scaled, i * 5, 5), argmax(logits, i * 5, 5), `image ${i}: argmax changed`);
    // The model object's own answers (temperature applied in classify) are the same numbers.
    const px = (ds: ImageDataset, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => ds.images.subarray(i * 784, (i + 1) * 784));
    const knownScores = m.classify(px(known, known.n)).map((p) => Math.max(...p));
    const unknownScores = m.classify(px(unknown, unknown.n)).map((p) => Math.max(...p));
    knownScores.slice(0, 50).forEach((s, i) => assert.ok(Math.abs(s - Math.max(...scaled.subarray(i * 5, i * 5 + 5))) < 1e-4));
    const falseRejection = rejectionRate(knownScores, calibration.threshold);
    const caught = rejectionRate(unknownScores, calibration.threshold);
    const area = auroc(knownScores, unknownScores);
    console.log(`AUROC ${area.toFixed(4)}; threshold ${calibration.threshold.toFixed(4)} rejects ${(falseRejection * 100).toFixed(2)}% of known (target ${calibration.targetRejection * 100}%) and ${(caught * 100).toFixed(2)}% of unknown`);
    assert.ok(Math.abs(falseRejection - calibration.targetRejection) < 0.04, `false rejection ${falseRejection} against target ${calibration.targetRejection}`);
    assert.ok(area > 0.8, `AUROC ${area}`);
    assert.ok(caught > falseRejection * 3, 'unknown digits are rejected far more often than known ones');
  } finally {
    m.dispose();
  }
  assert.equal(liveTensors().count, live, 'every tensor disposed');
});

test('predict --json, serve, the ONNX graph in onnxruntime and the web page answer unknown for the same files', async () => {
  // 40 test digits of each kind, as PNG files.
  const dir = join(root, 'images');
  mkdirSync(dir);
  const files: string[] = [];
  for (const [name, ds] of [['known', known], ['unknown', unknown]] as const) {
    for (let i = 0; i < 40; i += 1) {
      const file = join(dir, `${name}-${i}.png`);
      await sharp(Buffer.from(ds.images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(file);
      files.push(file);
    }
  }
  const pr = runCli(['predict', '--model', folder, ...files, '--json', '--engine', 'libtorch']);
  assert.equal(pr.code, 0, pr.stderr);
  const report = JSON.parse(pr.stdout) as PredictionReport;
  const threshold = readModelConfig(folder).calibration!.threshold;
  const byPredict = new Map(report.predictions.map((p) => [basename(p.file), p]));
  for (const p of report.predictions) {
    assert.equal(typeof p.unknown, 'boolean');
    assert.equal(p.score, p.top[0]!.probability);
    assert.equal(p.unknown, p.score! < threshold);
  }
  const nUnknown = report.predictions.filter((p) => p.unknown).length;
  assert.ok(nUnknown > 5 && nUnknown < files.length - 5, `${nUnknown} of ${files.length} unknown: both answers are exercised`);
  // Images within 1e-4 of the threshold could fall either side in float32 arithmetic: none here.
  const borderline = report.predictions.filter((p) => Math.abs(p.score! - threshold) < 1e-4).map((p) => basename(p.file));
  const agree = (path: string, unknownOf: Map<string, boolean>): void => {
    for (const [file, p] of byPredict) if (!borderline.includes(file)) assert.equal(unknownOf.get(file), p.unknown, `${path}: ${file}`);
  };

  // --unknown off answers as before: no unknown field; a VALUE is a threshold of its own.
  const off = JSON.parse(runCli(['predict', '--model', folder, files[0]!, '--json', '--unknown', 'off']).stdout) as PredictionReport;
  assert.equal(off.predictions[0]!.unknown, undefined);
  const strict = JSON.parse(runCli(['predict', '--model', folder, ...files.slice(0, 5), '--json', '--unknown', '0.999999']).stdout) as PredictionReport;
  assert.ok(strict.predictions.every((p) => p.unknown === p.score! < 0.999999));

  const m = await load(folder, { engine: 'onnxruntime' });
  try {
    const server = await m.serve({ port: 0, maxFiles: files.length });
    try {
      const form = new FormData();
      for (const f of files) form.append('image', new Blob([readFileSync(f)], { type: 'image/png' }), basename(f));
      const res = await fetch(`${server.url}/predict`, { method: 'POST', body: form });
      assert.equal(res.status, 200);
      const served = (await res.json()) as PredictionReport;
      agree('serve', new Map(served.predictions.map((p) => [p.file, p.unknown!])));
    } finally {
      await server.close();
    }

    const onnxFile = join(root, 'digits.onnx');
    m.export({ format: 'onnx', out: onnxFile });
    const proto = onnx.ModelProto.decode(readFileSync(onnxFile));
    const meta = new Map(proto.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(Number(meta.get('unknown_threshold')), threshold);
    assert.equal(meta.get('unknown_score'), 'max-softmax');
    assert.ok(proto.graph!.node!.some((n) => n.opType === 'Div' && n.output![0] === proto.graph!.node!.find((s) => s.opType === 'Softmax')!.input![0]), 'the temperature divides the logits before the softmax');
    const session = await ort.InferenceSession.create(onnxFile);
    const pixels = await Promise.all(files.map((f) => m.pixels(f)));
    const input = new ort.Tensor('float32', Float32Array.from(pixels.flatMap((p) => Array.from(p))), [files.length, 1, 28, 28]);
    const probs = (await session.run({ image: input })).probabilities!.data as Float32Array;
    const t = Number(meta.get('unknown_threshold'));
    agree('onnx', new Map(files.map((f, i) => [basename(f), Math.max(...probs.subarray(i * 5, i * 5 + 5)) < t])));

    const web = join(root, 'web');
    m.export({ format: 'web', out: web });
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: the web page check needs Debian's chromium (scripts/setup.sh installs it)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(web, 'index.html')).href);
      await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
      await page.setInputFiles('#files', files);
      await page.waitForFunction((n) => document.querySelectorAll('#history li').length >= n, files.length, { timeout: 60_000 });
      const seen = await page.$$eval('#history li', (lis) => lis.map((li) => [li.dataset.file!, li.dataset.unknown] as const));
      agree('web page', new Map(seen.map(([f, u]) => [f, u === 'true'])));
      const last = seen[seen.length - 1]!;
      assert.equal(await page.$eval('#unknown', (e) => !(e as HTMLElement).hidden), last[1] === 'true', 'the page shows "Unknown" for the last image when it is');
    } finally {
      await browser.close();
    }
  } finally {
    m.dispose();
  }
});

test('an ncm head calibrates on its validation split too; the reports show the ECE before and after; a bad record is refused by name', () => {
  const ncm = join(root, 'ncm');
  const r = runCli(['transfer', '--model', folder, '--data', 'mnist:train@classes=0-4,frac=0.1', '--mode', 'ncm', '--out', ncm, '--unknown', 'auto', '--unknown-rate', '0.1']);
  assert.equal(r.code, 0, r.stderr);
  const c = readModelConfig(ncm).calibration!;
  assert.equal(c.targetRejection, 0.1);
  assert.ok(Math.abs(c.validationRejection - 0.1) < 0.03, `${c.validationRejection}`);
  for (const dir of [folder, ncm]) assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /ECE before \/ after the temperature/);
  const config = JSON.parse(readFileSync(join(ncm, 'config.json'), 'utf8')) as { calibration: { threshold: number } };
  config.calibration.threshold = 2;
  writeFileSync(join(ncm, 'config.json'), JSON.stringify(config));
  const bad = runCli(['predict', '--model', ncm, join(root, 'images', 'known-0.png')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /field "calibration.threshold" must be a probability in \[0, 1\], found 2/);
});

test('--unknown auto needs a validation split; a folder without the record answers as before', () => {
  const r = runCli(['pretrain', '--data', 'mnist:train@classes=0-1,frac=0.05', '--out', join(root, 'none'), '--val', 'none', '--epochs', '1', '--unknown', 'auto', '--quiet']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--unknown auto fits its temperature and threshold on the validation split/);
  const bad = runCli(['predict', '--model', folder, 'x.png', '--unknown', '1.5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--unknown: expected off, auto or a probability in \(0, 1\)/);
  // The same weights without the record: the uncalibrated softmax, and no unknown field.
  const plain = join(root, 'plain');
  cpSync(folder, plain, { recursive: true });
  const config = JSON.parse(readFileSync(join(plain, 'config.json'), 'utf8')) as Record<string, unknown>;
  const t = (config.calibration as { temperature: number }).temperature;
  delete config.calibration;
  writeFileSync(join(plain, 'config.json'), JSON.stringify(config));
  const image = join(root, 'images', 'known-0.png');
  const [a] = (JSON.parse(runCli(['predict', '--model', plain, image, '--json']).stdout) as PredictionReport).predictions;
  const [b] = (JSON.parse(runCli(['predict', '--model', folder, image, '--json', '--unknown', 'off']).stdout) as PredictionReport).predictions;
  assert.equal(a!.unknown, undefined);
  assert.equal(a!.score, undefined);
  // The calibrated folder's probabilities are the plain ones at its temperature.
  const rescaled = softmaxRows(a!.probabilities.map(Math.log), 5, t);
  b!.probabilities.forEach((p, i) => assert.ok(Math.abs(p - rescaled[i]!) < 1e-5, `class ${i}: ${p} vs ${rescaled[i]}`));
});
