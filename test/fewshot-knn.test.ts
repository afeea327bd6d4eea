// knn (cosine k-nearest neighbours): the head's logits and classes equal a brute-force
// computation in plain JS doubles, its support set saves with the model's weights and comes
// back with the same outputs, it works as a model's head, and bad k is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, legacyPreprocess } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { planExecution } from '../src/execution/index.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { saveModelFolder } from '../src/runs/index.js';
import { KnnHead, fitFewShotHead } from '../src/transfer/heads/index.js';
import { F, disposeAll, fromTypedArray, liveTensors, manualSeed, noGrad, randn, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

/** The rule written out: centre, cosine, the k most similar, votes, ties to the larger total similarity. */
function bruteForce(support: number[][], labels: Int32Array, queries: number[][], center: number[], k: number, classes: number): number[][] {
  const unit = (v: number[]): number[] => {
    const c = v.map((x, i) => x - center[i]!);
    const n = Math.max(Math.hypot(...c), 1e-12);
    return c.map((x) => x / n);
  };
  const s = support.map(unit);
  return queries.map((q) => {
    const z = unit(q);
    const sims = s.map((row, j) => ({ j, sim: row.reduce((acc, x, i) => acc + x * z[i]!, 0) }));
    sims.sort((a, b) => b.sim - a.sim);
    const score = new Array<number>(classes).fill(0);
    for (const { j, sim } of sims.slice(0, k)) score[labels[j]!]! += 1 + sim / (2 * k + 1);
    return score.map((v) => Math.log(v + 1e-3));
  });
}

const rows = (t: { toArray(): unknown }): number[][] => t.toArray() as number[][];

test('knn equals brute force, for several k and both centres', async () => {
  const before = liveTensors().count;
  manualSeed(41);
  tidy(() => {
    const labels = Int32Array.from({ length: 40 }, (_, i) => (i * 3) % 4);
    const support = randn([4, 12]).indexSelect(0, fromTypedArray(labels, [40]).long()).add(randn([40, 12]).mul(0.8));
    const queries = randn([150, 12]);
    for (const k of [1, 4, 7, 40]) {
      for (const center of [undefined, randn([12])]) {
        const head = KnnHead.fit(support, labels, 4, { k, ...(center ? { center } : {}) });
        const logits = head.forward(queries);
        const c = center ? center.toFlatArray() : support.mean(0).toFlatArray();
        const expected = bruteForce(rows(support), labels, rows(queries), c, k, 4);
        assertClose(logits, fromTypedArray(Float32Array.from(expected.flat()), [150, 4]), { rtol: 1e-5, atol: 1e-5, what: `logits, k=${k}` });
        const classes = logits.argmax(1).toFlatArray();
        assert.deepEqual(classes, expected.map((r) => r.indexOf(Math.max(...r))), `classes, k=${k}`);
        // Softmax gives the vote shares (smoothed): with k = 1 the nearest class gets nearly all.
        if (k === 1) assert.ok(tidy(() => F.softmax(logits, 1).max(1).values.min().item()) > 0.99);
        head.dispose();
      }
    }
  });
  assert.equal(liveTensors().count, before);
});

test('the support set saves with the model weights and comes back with the same outputs', async () => {
  const before = liveTensors().count;
  manualSeed(42);
  const model = new TinyNet(TINY_CONFIG);
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-knn-'));
  const train = tinyDataset(24);
  const loader = (n: number): DataLoader => new DataLoader(tinyDataset(n), { batchSize: 8, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  try {
    const r = await fitFewShotHead(model, { mode: 'knn', k: 3, support: loader(24), numClasses: 3, plan: fp32 });
    assert.equal(r.mode, 'knn');
    assert.equal(model.numClasses, 3);
    saveModelFolder(dir, model, { classes: train.classes, preprocess: legacyPreprocess(model.config) });
    const saved = readSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(saved.get('classifier.1.support')!.shape, [24, 64]);
    assert.deepEqual(saved.get('classifier.1.support_labels')!.toFlatArray(), [...train.labels]);
    assert.equal(saved.get('classifier.1.k')!.item(), 3);
    const state = new Map([...saved].filter(([k]) => k.startsWith('classifier.1.')).map(([k, v]) => [k.slice('classifier.1.'.length), v]));
    const restored = KnnHead.fromState(state);
    tidy(() => {
      const feats = randn([10, 64]);
      assertClose(restored.forward(feats), model.getSubmodule('classifier.1').forward(feats), { atol: 0, rtol: 0, what: 'restored head' });
    });
    restored.dispose();
    disposeAll(saved);
    const ev = await evaluateModel(model, loader(45), { plan: fp32, classNames: train.classes });
    assert.ok(ev.accuracy > 0.9, `brightness classes are easy: ${ev.accuracy}`);
    tidy(() => assert.equal(noGrad(() => model.forward(randn([2, 1, 8, 8]))).shape[1], 3));
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors().count, before);
});

test('k must be between 1 and the number of support images', async () => {
  tidy(() => {
    const labels = Int32Array.from([0, 1, 0, 1]);
    for (const k of [0, 5, 1.5]) {
      assert.throws(() => KnnHead.fit(randn([4, 3]), labels, 2, { k }), (e: unknown) => e instanceof TlcvError && /for k/.test(e.message));
    }
  });
});
