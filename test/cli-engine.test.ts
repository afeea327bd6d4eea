// `--engine` on the command line: tlcv predict and tlcv evaluate give libtorch's answers on
// onnxruntime (probabilities within 1e-4; the same accuracy, loss within 1e-4), auto prints at
// most its timing line, and a knn folder stays on libtorch under auto (one line) while
// `--engine onnxruntime` is refused as a user error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, checkDataset } from '../src/data/index.js';
import type { PredictionReport } from '../src/deploy/index.js';
import { planExecution } from '../src/execution/index.js';
import { Model } from '../src/runs/index.js';
import { fitFewShotHead } from '../src/transfer/heads/index.js';
import { writePhotos } from './helpers/deploy-fixture.js';
import { assertUserError, runCli, STACK_LINE } from './helpers/cli.js';
import { patternImages, spreadZooModel } from './helpers/engine-fixture.js';

const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));
let root: string;
let folder: string;
let knnFolder: string;
let photos: string[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-cli-engine-'));
  photos = await writePhotos(join(root, 'photos'), 3);
  folder = join(root, 'cnn');
  const a = spreadZooModel('seed-cnn', { numClasses: 10 });
  Model.wrap(a.model, { classes: DIGITS, preprocess: a.preprocess }).save(folder);
  a.model.dispose();

  knnFolder = join(root, 'knn');
  const b = spreadZooModel('seed-cnn', { numClasses: 10 });
  const imgs = patternImages([1, 28, 28], 20);
  const images = new Uint8Array(20 * 784);
  imgs.forEach((img, i) => images.set(img, i * 784));
  const support = checkDataset({ name: 'patterns', images, labels: Int32Array.from({ length: 20 }, (_, i) => i % 10), n: 20, channels: 1, height: 28, width: 28, classes: DIGITS, source: 'test' });
  const plan = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
  await fitFewShotHead(b.model, { mode: 'knn', k: 3, support: new DataLoader(support, { batchSize: 10, mean: b.preprocess.mean, std: b.preprocess.std }), numClasses: 10, plan });
  Model.wrap(b.model, { classes: DIGITS, preprocess: b.preprocess }).save(knnFolder);
  b.model.dispose();
});

after(() => rmSync(root, { recursive: true, force: true }));

function predict(model: string, engine: string): { report: PredictionReport; stderr: string } {
  const r = runCli(['predict', '--model', model, ...photos, '--json', '--engine', engine]);
  assert.equal(r.code, 0, r.stderr);
  return { report: JSON.parse(r.stdout) as PredictionReport, stderr: r.stderr };
}

test('tlcv predict --engine onnxruntime gives --engine libtorch probabilities within 1e-4', () => {
  const torch = predict(folder, 'libtorch');
  const ort = predict(folder, 'onnxruntime');
  assert.equal(torch.stderr, '');
  assert.equal(ort.stderr, '', 'nothing from onnxruntime reaches stderr');
  assert.deepEqual(ort.report.classes, DIGITS);
  let worst = 0;
  for (const [i, p] of torch.report.predictions.entries()) {
    const q = ort.report.predictions[i]!;
    assert.equal(q.file, p.file);
    for (let k = 0; k < DIGITS.length; k += 1) worst = Math.max(worst, Math.abs(p.probabilities[k]! - q.probabilities[k]!));
  }
  assert.ok(worst <= 1e-4, `largest probability difference ${worst}`);
  assert.ok(Math.max(...torch.report.predictions.map((p) => p.top[0]!.probability)) > 0.3, 'probabilities far from uniform (0.1)');
  const auto = predict(folder, 'auto');
  assert.ok(auto.stderr.split('\n').filter((l) => l !== '').every((l) => /^timed inference engines on 3 images/.test(l)), auto.stderr);
  assert.deepEqual(auto.report.predictions.map((p) => p.top[0]!.index), torch.report.predictions.map((p) => p.top[0]!.index));
});

test('tlcv evaluate --engine onnxruntime gives --engine libtorch metrics (fp32)', () => {
  const evaluate = (engine: string): { accuracy: number; loss: number; n: number } => {
    const r = runCli(['evaluate', '--model', folder, '--data', 'mnist:test@k=3', '--precision', 'fp32', '--channels-last', 'off', '--batch-size', '16', '--json', '--engine', engine]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    return JSON.parse(r.stdout) as { accuracy: number; loss: number; n: number };
  };
  const torch = evaluate('libtorch');
  const ort = evaluate('onnxruntime');
  assert.equal(ort.n, 30);
  assert.equal(ort.accuracy, torch.accuracy);
  assert.ok(Math.abs(ort.loss - torch.loss) <= 1e-4 * Math.max(1, torch.loss), `loss ${ort.loss} against ${torch.loss}`);
});

test('a knn folder: auto stays on libtorch and says so in one line; --engine onnxruntime is refused', () => {
  const auto = predict(knnFolder, 'auto');
  assert.equal(auto.report.predictions.length, photos.length);
  assert.deepEqual(auto.stderr.trimEnd().split('\n'), [`engine: ${knnFolder} stays on libtorch: its knn head has no ONNX form in tlcv`]);
  assertUserError(['predict', '--model', knnFolder, photos[0]!, '--engine', 'onnxruntime'], /^tlcv predict: --engine onnxruntime cannot run .*knn: its knn head has no ONNX form in tlcv; use --engine libtorch \(or auto\)$/);
  assertUserError(['predict', '--model', folder, photos[0]!, '--engine', 'tensorrt'], /^tlcv predict: --engine/);
});
