// pseudo-label: images at or above the confidence threshold, each class capped at its equal
// share (the most confident first), returned in dataset order with a dataset the trainer can
// take; the target's own labels make no difference, and the same model gives the same round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlcvError } from '../src/errors.js';
import { concatDatasets, DataLoader } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { fitFewShotHead } from '../src/transfer/heads/index.js';
import { predictProbabilities, pseudoLabelRound, pseudoLabelledDataset, selectPseudoLabels, withoutLabels } from '../src/transfer/adapt/index.js';
import { liveTensors, manualSeed } from '../src/tensor/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

test('selection: threshold, a per-class cap of an equal share, most confident first, dataset order', async () => {
  // Eight images, three classes. Confident (>= 0.8): 0 (c0, .9), 1 (c0, .95), 2 (c0, .8), 3 (c0, .85),
  // 5 (c1, .99), 7 (c2, .81); image 4 is c1 at .7 and image 6 is c2 at .6. Six confident over three
  // classes: at most two each, so class 0 keeps images 1 and 0.
  const rows = [
    [0.9, 0.05, 0.05],
    [0.95, 0.03, 0.02],
    [0.8, 0.1, 0.1],
    [0.85, 0.1, 0.05],
    [0.2, 0.7, 0.1],
    [0.005, 0.99, 0.005],
    [0.3, 0.1, 0.6],
    [0.09, 0.1, 0.81],
  ];
  const probs = Float32Array.from(rows.flat());
  const s = selectPseudoLabels(probs, 8, 3, { threshold: 0.8 });
  assert.deepEqual([...s.indices], [0, 1, 5, 7]);
  assert.deepEqual([...s.labels], [0, 0, 1, 2]);
  assert.deepEqual(s.perClass, [2, 1, 1]);
  assert.equal(s.confident, 6);
  assert.equal(s.cap, 2);
  assert.deepEqual([...s.confidences], [0.9, 0.95, 0.99, 0.81].map(Math.fround));
  // An explicit cap, and a threshold nobody reaches.
  assert.deepEqual([...selectPseudoLabels(probs, 8, 3, { threshold: 0.8, maxPerClass: 3 }).indices], [0, 1, 3, 5, 7]);
  assert.equal(selectPseudoLabels(probs, 8, 3, { threshold: 0.999 }).indices.length, 0);
  assert.throws(() => selectPseudoLabels(probs, 8, 3, { threshold: 1.5 }), TlcvError);
  assert.throws(() => selectPseudoLabels(probs, 7, 3), TlcvError);
});

test('the pseudo-labelled dataset holds the chosen images with their new labels and joins the source', async () => {
  const target = tinyDataset(6);
  const s = selectPseudoLabels(Float32Array.from([0.9, 0.1, 0, 0.1, 0.1, 0.8, 0.2, 0.5, 0.3, 0, 0.05, 0.95, 1, 0, 0, 0.3, 0.3, 0.4]), 6, 3, { threshold: 0.8 });
  const ds = pseudoLabelledDataset(target, s, target.classes);
  assert.deepEqual([...ds.parentIndices!], [...s.indices]);
  assert.deepEqual([...ds.labels], [...s.labels]);
  assert.deepEqual([...s.indices], [0, 1, 3, 4]);
  assert.deepEqual(ds.images, Uint8Array.from([0, 1, 3, 4].flatMap((i) => [...target.images.subarray(i * 64, (i + 1) * 64)])));
  const joined = concatDatasets([tinyDataset(9), ds], 'source+pseudo', 'test');
  assert.equal(joined.n, 9 + ds.n);
  assert.deepEqual([...withoutLabels(target).labels], [0, 0, 0, 0, 0, 0]);
});

test('a round on a model: the target labels are never read, and the same model gives the same round', async () => {
  const before = liveTensors().count;
  manualSeed(81);
  const model = new TinyNet(TINY_CONFIG);
  const loader = (n: number): DataLoader => new DataLoader(tinyDataset(n), { batchSize: 16, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  try {
    await fitFewShotHead(model, { mode: 'ncm', support: loader(12), numClasses: 3, plan: fp32 });
    const target = tinyDataset(60);
    const scrambled = { ...target, labels: target.labels.map((y) => (y + 1) % 3) };
    const a = pseudoLabelRound(model, target, fp32, target.classes, { threshold: 0.5 });
    const b = pseudoLabelRound(model, scrambled, fp32, target.classes, { threshold: 0.5 });
    assert.deepEqual(a.selection, b.selection, 'the labels in the target data change nothing');
    assert.deepEqual(a.selection, pseudoLabelRound(model, target, fp32, target.classes, { threshold: 0.5 }).selection, 'same model, same round');
    assert.ok(a.selection.indices.length > 20, `a confident head labels many images (${a.selection.indices.length})`);
    const right = [...a.selection.indices].filter((i, j) => target.labels[i] === a.selection.labels[j]).length;
    assert.ok(right / a.selection.indices.length > 0.9, 'and labels them correctly on this easy set');
    assert.equal(predictProbabilities(model, target, fp32).length, 60 * 3);
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});
