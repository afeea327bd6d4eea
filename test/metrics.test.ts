import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MetricsAccumulator, expectedCalibrationError, formatEvaluation, type EvaluationResult } from '../src/metrics/index.js';
import { TlcvError } from '../src/errors.js';

/** A probability row that predicts `predicted` with probability `confidence`, the rest spread evenly. */
function rowFor(k: number, predicted: number, confidence: number): number[] {
  return Array.from({ length: k }, (_, c) => (c === predicted ? confidence : (1 - confidence) / (k - 1)));
}

/** Deterministic pseudo-random numbers (mulberry32), so the test needs no seed plumbing. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSoftmax(random: () => number, n: number, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i += 1) {
    let sum = 0;
    for (let c = 0; c < k; c += 1) {
      out[i * k + c] = Math.exp(4 * random());
      sum += out[i * k + c];
    }
    for (let c = 0; c < k; c += 1) out[i * k + c] /= sum;
  }
  return out;
}

/** The reference: P/R/F1 straight from (true, predicted) pairs, with no confusion matrix in between. */
function referenceScores(truth: number[], predicted: number[], k: number) {
  return Array.from({ length: k }, (_, c) => {
    const tp = truth.filter((t, i) => t === c && predicted[i] === c).length;
    const fp = truth.filter((t, i) => t !== c && predicted[i] === c).length;
    const fn = truth.filter((t, i) => t === c && predicted[i] !== c).length;
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1, support: tp + fn, predictedCount: tp + fp };
  });
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c += 1) if (row[c] > row[best]) best = c;
  return best;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('a hand-built 3-class confusion gives the P/R/F1 of its counts', () => {
  // rows = true class, columns = predicted class
  const counts = [
    [3, 1, 0],
    [1, 2, 1],
    [0, 0, 2],
  ];
  const probs: number[] = [];
  const targets: number[] = [];
  counts.forEach((row, t) => row.forEach((count, p) => {
    for (let i = 0; i < count; i += 1) {
      probs.push(...rowFor(3, p, 0.6));
      targets.push(t);
    }
  }));
  const acc = new MetricsAccumulator(3);
  acc.add(new Float32Array(probs), Int32Array.from(targets));
  const r = acc.result(['a', 'b', 'c']);
  assert.deepEqual(r.confusion, counts);
  assert.equal(r.n, 10);
  close(r.accuracy, (3 + 2 + 2) / 10, 'accuracy');
  // Class 0: tp 3, predicted 3+1+0, support 3+1+0.  Class 1: tp 2, predicted 1+2+0, support 1+2+1.
  // Class 2: tp 2, predicted 0+1+2, support 0+0+2.
  const expected = [
    { p: 3 / 4, r: 3 / 4, s: 4 },
    { p: 2 / 3, r: 2 / 4, s: 4 },
    { p: 2 / 3, r: 2 / 2, s: 2 },
  ];
  expected.forEach((e, i) => {
    const got = r.perClass[i];
    assert.equal(got.class, ['a', 'b', 'c'][i]);
    close(got.precision, e.p, `precision ${i}`);
    close(got.recall, e.r, `recall ${i}`);
    close(got.f1, (2 * e.p * e.r) / (e.p + e.r), `f1 ${i}`);
    assert.equal(got.support, e.s);
  });
  close(r.macro.precision, (3 / 4 + 2 / 3 + 2 / 3) / 3, 'macro precision');
  close(r.macro.recall, (3 / 4 + 2 / 4 + 1) / 3, 'macro recall');
  close(r.weighted.recall, (4 * (3 / 4) + 4 * (2 / 4) + 2 * 1) / 10, 'weighted recall');
  close(r.weighted.f1, expected.reduce((s, e) => s + e.s * ((2 * e.p * e.r) / (e.p + e.r)), 0) / 10, 'weighted f1');
  close(r.balancedAccuracy, (3 / 4 + 2 / 4 + 1) / 3, 'balanced accuracy');
  close(r.loss ?? NaN, (7 * -Math.log(Math.fround(0.6)) + 3 * -Math.log(Math.fround(0.2))) / 10, 'loss');
  // Every prediction has confidence 0.6: one bin, accuracy 0.7.
  assert.ok(Math.abs(r.ece - Math.abs(0.7 - 0.6)) < 1e-6, `ece ${r.ece}`);
});

test('precision and recall of an empty class are 0 (zero_division=0)', () => {
  // Class 2 is never predicted; class 3 has no samples but is predicted once.
  const acc = new MetricsAccumulator(4);
  const rows = [rowFor(4, 0, 0.9), rowFor(4, 1, 0.8), rowFor(4, 1, 0.7), rowFor(4, 3, 0.5)];
  acc.add(rows.flat(), [0, 1, 2, 0]);
  const r = acc.result(['w', 'x', 'y', 'z']);
  assert.deepEqual(r.perClass[2], { class: 'y', precision: 0, recall: 0, f1: 0, support: 1 });
  assert.deepEqual(r.perClass[3], { class: 'z', precision: 0, recall: 0, f1: 0, support: 0 });
  assert.ok(Object.values(r.macro).every(Number.isFinite));
  // Balanced accuracy averages over the three classes with support; macro over the four seen.
  close(r.balancedAccuracy, (1 / 2 + 1 + 0) / 3, 'balanced accuracy');
  close(r.macro.recall, (1 / 2 + 1 + 0 + 0) / 4, 'macro recall');
  const empty = new MetricsAccumulator(2).result(['a', 'b']);
  assert.equal(empty.n, 0);
  assert.equal(empty.accuracy, 0);
  assert.equal(empty.loss, undefined);
});

test('top-k caps k at the class count and counts ties like argmax', () => {
  const random = rng(3);
  const probs = randomSoftmax(random, 50, 3);
  const targets = Array.from({ length: 50 }, () => Math.floor(random() * 3));
  const three = new MetricsAccumulator(3);
  three.add(probs, targets);
  assert.equal(three.result(['a', 'b', 'c']).top5, 1, 'top-5 over 3 classes is top-3, always right');

  const top2 = new MetricsAccumulator(3, { topK: 2 });
  top2.add(probs, targets);
  const hits = targets.filter((t, i) => {
    const row = Array.from(probs.subarray(i * 3, i * 3 + 3));
    return row.filter((p) => p > row[t]).length < 2;
  }).length;
  close(top2.result(['a', 'b', 'c']).top5, hits / 50, 'top-2');

  // All-equal rows: argmax picks class 0, so only target 0 is top-1 and targets 0, 1 are top-2.
  const ties = new MetricsAccumulator(3, { topK: 2 });
  ties.add(new Float32Array(9).fill(1 / 3), [0, 1, 2]);
  const r = ties.result(['a', 'b', 'c']);
  close(r.accuracy, 1 / 3, 'tie accuracy');
  close(r.top5, 2 / 3, 'tie top-2');
});

test('streaming in batches equals one big batch', () => {
  const random = rng(11);
  const n = 203;
  const k = 7;
  const probs = randomSoftmax(random, n, k);
  const targets = Int32Array.from({ length: n }, () => Math.floor(random() * k));
  const names = Array.from({ length: k }, (_, i) => `class ${i}`);
  const whole = new MetricsAccumulator(k, { keepWorst: 5 });
  whole.add(probs, targets);
  const streamed = new MetricsAccumulator(k, { keepWorst: 5 });
  for (let start = 0; start < n;) {
    const size = 1 + Math.floor(random() * 20);
    const end = Math.min(n, start + size);
    streamed.add(probs.subarray(start * k, end * k), targets.subarray(start, end));
    start = end;
  }
  assert.deepEqual(streamed.result(names), whole.result(names));
});

test('random predictions match the pair-by-pair reference (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 80 }), fc.integer(), (k, n, seed) => {
      const random = rng(seed);
      // Peaked rows so every class gets predicted sometimes and some classes are missed entirely.
      const probs = randomSoftmax(random, n, k);
      const targets = Array.from({ length: n }, () => Math.floor(random() * Math.min(k, 1 + Math.floor(random() * k))));
      const predicted = targets.map((_, i) => argmax(probs.subarray(i * k, (i + 1) * k)));
      const acc = new MetricsAccumulator(k);
      acc.add(probs, targets);
      const r = acc.result(Array.from({ length: k }, (_, i) => String(i)));
      const ref = referenceScores(targets, predicted, k);
      ref.forEach((e, c) => {
        close(r.perClass[c].precision, e.precision, `precision ${c}`);
        close(r.perClass[c].recall, e.recall, `recall ${c}`);
        assert.ok(Math.abs(r.perClass[c].f1 - e.f1) < 1e-12);
        assert.equal(r.perClass[c].support, e.support);
      });
      const seen = ref.filter((e) => e.support + e.predictedCount > 0);
      close(r.macro.f1, seen.reduce((s, e) => s + e.f1, 0) / seen.length, 'macro f1');
      close(r.weighted.precision, ref.reduce((s, e) => s + e.precision * e.support, 0) / n, 'weighted precision');
      close(r.accuracy, targets.filter((t, i) => t === predicted[i]).length / n, 'accuracy');
      assert.equal(r.confusion.flat().reduce((a, b) => a + b, 0), n);
    }),
    { numRuns: 200, seed: 42 },
  );
});

test('worst keeps the most confidently wrong, most confident first, ties by index', () => {
  const acc = new MetricsAccumulator(3, { keepWorst: 3 });
  const confidences = [0.5, 0.95, 0.7, 0.99, 0.7, 0.6, 0.95];
  // Sample 3 is right (target = predicted), so it must not appear however confident it is.
  const targets = [1, 2, 1, 0, 2, 2, 2];
  confidences.forEach((conf, i) => acc.add(rowFor(3, 0, conf), [targets[i]], [100 + i]));
  const worst = acc.result(['a', 'b', 'c']).worst;
  assert.deepEqual(worst.map((w) => w.index), [101, 106, 102]);
  // 102 and 104 tie at 0.7; the lower index wins.
  assert.deepEqual(worst.map((w) => [w.label, w.predicted]), [[2, 0], [2, 0], [1, 0]]);
  assert.ok(Math.abs(worst[0].confidence - 0.95) < 1e-6);

  // Many batches trim the list on the way; the result must equal a full sort.
  const random = rng(5);
  const big = new MetricsAccumulator(5, { keepWorst: 10 });
  const all: { index: number; confidence: number }[] = [];
  for (let b = 0; b < 40; b += 1) {
    const probs = randomSoftmax(random, 8, 5);
    const t = Array.from({ length: 8 }, () => Math.floor(random() * 5));
    big.add(probs, t);
    t.forEach((target, i) => {
      const row = probs.subarray(i * 5, i * 5 + 5);
      const p = argmax(row);
      if (p !== target) all.push({ index: b * 8 + i, confidence: row[p] });
    });
  }
  all.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  assert.deepEqual(big.result(['a', 'b', 'c', 'd', 'e']).worst.map((w) => w.index), all.slice(0, 10).map((w) => w.index));
});

test('calibration error of a small case computed by hand', () => {
  // 10 bins: 0.9 lands in (0.8, 0.9] and is right; 0.6 lands in (0.5, 0.6] and is wrong.
  close(expectedCalibrationError([0.9, 0.1, 0.6, 0.4], [0, 1], 2, 10), (Math.abs(1 - 0.9) + Math.abs(0 - 0.6)) / 2, 'ece');
});

test('bad input is named and leaves the accumulator unchanged', () => {
  const acc = new MetricsAccumulator(3);
  acc.add(rowFor(3, 0, 0.8), [0]);
  const isArg = (re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && re.test(e.message);
  assert.throws(() => acc.add(new Float32Array(5), [0, 1]), isArg(/^Expected 6 values \(2 targets x 3 classes\) for probs but received 5 values$/));
  assert.throws(() => acc.add(rowFor(3, 0, 0.8), [3]), isArg(/\[0, 2\] for targets\[0\] but received 3$/));
  assert.throws(() => acc.add([...rowFor(3, 1, 0.8), NaN, 0.5, 0.5], [1, 1]), isArg(/probs row 1/));
  assert.equal(acc.count, 1);
  assert.deepEqual(acc.result(['a', 'b', 'c']).confusion, [[1, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.throws(() => acc.result(['a']), isArg(/3 names \(one per class\) for classNames but received 1$/));
  assert.throws(() => new MetricsAccumulator(0), isArg(/positive integer for numClasses but received 0$/));
});

test('the JSON form carries the contractual keys, and the text form is readable', () => {
  const acc = new MetricsAccumulator(3);
  acc.add([...rowFor(3, 0, 0.9), ...rowFor(3, 2, 0.8), ...rowFor(3, 2, 0.7)], [0, 1, 2]);
  const r: EvaluationResult = JSON.parse(JSON.stringify(acc.result(['cat', 'dog', 'fox'])));
  for (const key of ['accuracy', 'top5', 'n', 'perClass', 'confusion']) assert.ok(key in r, key);
  assert.deepEqual(Object.keys(r.perClass[0]).sort(), ['class', 'f1', 'precision', 'recall', 'support']);

  const text = formatEvaluation(r);
  assert.match(text, /accuracy 66\.67%/);
  // Top-5 of three classes holds every answer: the text leaves it out (issue 19).
  assert.doesNotMatch(text, /top-/);
  assert.match(text, /^dog\s+0\.000\s+0\.000\s+0\.000\s+1$/m);
  assert.match(text, /^\s*1 dog\s+0\s+0\s+1$/m, 'confusion row of dog: predicted fox once');

  const many = new MetricsAccumulator(25);
  many.add(rowFor(25, 3, 0.5), [3]);
  const manyText = formatEvaluation(many.result(Array.from({ length: 25 }, (_, i) => `a-very-long-class-name-${i}`)));
  assert.match(manyText, /confusion matrix not shown for 25 classes/);
  assert.match(manyText, /top-5 100\.00%/);
  assert.match(manyText, /a-very-long-class…/);
});
