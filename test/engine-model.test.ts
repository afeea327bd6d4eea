// The engine behind the model object: evaluate on onnxruntime gives libtorch's metrics (fp32),
// a knn head stays on libtorch (auto says so in one line, a pinned onnxruntime refuses), and
// neither a tensor nor an onnxruntime session outlives the model or releaseMemory().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, checkDataset, type ImageDataset } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';
import { openOrtSessions } from '../src/deploy/index.js';
import { planExecution } from '../src/execution/index.js';
import { Model } from '../src/runs/index.js';
import { fitFewShotHead } from '../src/transfer/heads/index.js';
import { liveTensors } from '../src/tensor/index.js';
import type { ClassifierModel } from '../src/models/index.js';
import { patternImages, spreadZooModel } from './helpers/engine-fixture.js';

const CLASSES = ['a', 'b', 'c', 'd', 'e'];

function dataset(n: number): ImageDataset {
  const imgs = patternImages([1, 28, 28], n);
  const images = new Uint8Array(n * 784);
  imgs.forEach((img, i) => images.set(img, i * 784));
  return checkDataset({ name: 'patterns', images, labels: Int32Array.from({ length: n }, (_, i) => i % 5), n, channels: 1, height: 28, width: 28, classes: CLASSES, source: 'test' });
}

const wrap = (m: ClassifierModel, preprocess: ReturnType<typeof spreadZooModel>['preprocess'], engine: 'auto' | 'libtorch' | 'onnxruntime', log?: (l: string) => void): Model =>
  Model.wrap(m, { classes: CLASSES, preprocess, engine, ...(log ? { log } : {}) });

test('evaluate on onnxruntime gives libtorch fp32 metrics; nothing outlives the model', async () => {
  const live = liveTensors().count;
  const sessions = openOrtSessions();
  const { model, preprocess } = spreadZooModel('seed-cnn');
  const ds = dataset(40);
  const torch = await Model.wrap(model, { classes: CLASSES, preprocess, engine: 'libtorch', precision: 'fp32', channelsLast: false }).evaluate(ds, { batchSize: 16 });
  const m = Model.wrap(model, { classes: CLASSES, preprocess, engine: 'onnxruntime', precision: 'fp32', channelsLast: false });
  const ort = await m.evaluate(ds, { batchSize: 16 });
  assert.equal(m.lastEngine, 'onnxruntime');
  assert.equal(ort.n, 40);
  assert.equal(ort.accuracy, torch.accuracy);
  assert.deepEqual(ort.confusion, torch.confusion);
  assert.ok(Math.abs(ort.loss! - torch.loss!) <= 1e-4 * Math.max(1, torch.loss!), `loss ${ort.loss} against ${torch.loss}`);
  assert.ok(torch.accuracy > 0 && torch.accuracy < 1, `an accuracy with room either way: ${torch.accuracy}`);
  // Predict and serve's path on the same object, then memory given back and made again.
  const [c, h, w] = preprocess.inputSize;
  const px = patternImages([c, h, w], 2);
  const first = m.classify(px);
  assert.equal(openOrtSessions(), sessions + 1);
  m.releaseMemory();
  assert.equal(openOrtSessions(), sessions, 'releaseMemory frees the session');
  assert.deepEqual(m.classify(px), first, 'and the next forward makes it again');
  m.dispose();
  assert.equal(openOrtSessions(), sessions, 'dispose frees the session');
  assert.equal(liveTensors().count, live);
});

test('auto runs evaluation on the engine it chose and leaves nothing behind', async () => {
  const live = liveTensors().count;
  const sessions = openOrtSessions();
  const { model, preprocess } = spreadZooModel('seed-cnn');
  const lines: string[] = [];
  const m = Model.wrap(model, { classes: CLASSES, preprocess, engine: 'auto', precision: 'fp32', channelsLast: false });
  const r = await m.evaluate(dataset(20), { batchSize: 10, log: (l) => lines.push(l) });
  assert.equal(r.n, 20);
  assert.ok(m.lastEngine === 'libtorch' || m.lastEngine === 'onnxruntime');
  // Timed now, or taken from the run's plan cache (an earlier test file may have timed it).
  assert.ok(lines.every((l) => /^timed inference (engines|plans)/.test(l)), lines.join('\n'));
  m.dispose();
  assert.equal(openOrtSessions(), sessions);
  assert.equal(liveTensors().count, live);
});

test('a knn head stays on libtorch: auto says so once, a pinned onnxruntime refuses', async () => {
  const live = liveTensors().count;
  const { model, preprocess, images } = spreadZooModel('seed-cnn');
  const plan = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
  await fitFewShotHead(model, { mode: 'knn', k: 3, support: new DataLoader(dataset(15), { batchSize: 8, mean: preprocess.mean, std: preprocess.std }), numClasses: 5, plan });
  const lines: string[] = [];
  const auto = wrap(model, preprocess, 'auto', (l) => lines.push(l));
  const probs = auto.classify(images);
  assert.equal(auto.lastEngine, 'libtorch');
  auto.classify(images.slice(0, 1));
  await auto.evaluate(dataset(10), { batchSize: 5 });
  assert.equal(auto.lastEngine, 'libtorch');
  assert.deepEqual(lines, ['engine: seed-cnn stays on libtorch: its knn head has no ONNX form in tlcv']);
  assert.equal(probs.length, images.length);

  const pinned = wrap(model, preprocess, 'onnxruntime');
  assert.throws(
    () => pinned.classify(images),
    (e: unknown) => e instanceof TlcvError && e.code === 'ENGINE' && /^--engine onnxruntime cannot run seed-cnn: its knn head has no ONNX form in tlcv; use --engine libtorch \(or auto\)$/.test(e.message),
  );
  await assert.rejects(pinned.evaluate(dataset(5)), /--engine onnxruntime cannot run seed-cnn: its knn head/);
  pinned.releaseMemory();
  auto.dispose();
  assert.equal(liveTensors().count, live);
});
