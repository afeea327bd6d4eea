// Temperature scaling and the open-set threshold as arithmetic (src/metrics/calibration.ts):
// an overconfident classifier made on purpose (logits three times what its labels were drawn
// from) must get a temperature near 3, a lower ECE on a held-out split, the same argmax, and a
// threshold rejecting its target fraction of known images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, calibrate, expectedCalibrationError, fitTemperature, maxSoftmax, meanNll, ncmDistanceScores, rejectionRate, rejectionThreshold, softmaxRows } from '../src/metrics/index.js';
import { TlcvError } from '../src/errors.js';

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

/** n images of k classes: labels drawn from softmax(z), logits reported as scale * z. */
function overconfident(seed: number, n: number, k: number, scale: number): { logits: Float64Array; labels: Int32Array; numClasses: number } {
  const r = rng(seed);
  const logits = new Float64Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const z = Array.from({ length: k }, () => 3 * r());
    const p = softmaxRows(z, k);
    let u = r();
    let y = 0;
    while (y < k - 1 && u > p[y]!) u -= p[y++]!;
    labels[i] = y;
    z.forEach((v, c) => (logits[i * k + c] = scale * v));
  }
  return { logits, labels, numClasses: k };
}

const argmaxes = (p: ArrayLike<number>, k: number): number[] =>
  Array.from({ length: p.length / k }, (_, i) => {
    let b = 0;
    for (let c = 1; c < k; c += 1) if (p[i * k + c]! > p[i * k + b]!) b = c;
    return b;
  });

test('temperature scaling finds the overconfidence, lowers ECE on a held-out split and keeps every argmax', () => {
  const fitOn = overconfident(1, 3000, 5, 3);
  const heldOut = overconfident(2, 3000, 5, 3);
  const t = fitTemperature(fitOn);
  assert.ok(t > 2.5 && t < 3.6, `temperature ${t}, expected near 3`);
  // The NLL is at its minimum there.
  assert.ok(meanNll(fitOn, t) <= meanNll(fitOn, t * 1.05) && meanNll(fitOn, t) <= meanNll(fitOn, t / 1.05));
  // The record's own figures, on the split it was fitted on.
  const r = calibrate(fitOn);
  assert.equal(r.temperature, t);
  assert.ok(r.eceAfter < r.eceBefore / 2, `ECE ${r.eceBefore} -> ${r.eceAfter}`);
  // The held-out split's ECE with the temperature fitted on the other.
  const eceHeldBefore = expectedCalibrationError(softmaxRows(heldOut.logits, 5, 1), heldOut.labels, 5);
  const eceHeldAfter = expectedCalibrationError(softmaxRows(heldOut.logits, 5, r.temperature), heldOut.labels, 5);
  assert.ok(eceHeldAfter < eceHeldBefore, `held-out ECE ${eceHeldBefore} -> ${eceHeldAfter}`);
  assert.deepEqual(argmaxes(softmaxRows(heldOut.logits, 5, r.temperature), 5), argmaxes(heldOut.logits, 5));
  assert.ok(r.nllAfter < r.nllBefore);
});

test('an underconfident classifier gets a temperature below 1', () => {
  assert.ok(fitTemperature(overconfident(3, 2000, 4, 0.4)) < 0.6);
});

test('the threshold rejects the target fraction of known images, on the split and a held-out one', () => {
  const a = overconfident(4, 4000, 10, 2);
  const b = overconfident(5, 4000, 10, 2);
  for (const target of [0.01, 0.05, 0.2]) {
    const r = calibrate(a, { targetRejection: target });
    assert.equal(r.score, 'max-softmax');
    assert.ok(Math.abs(r.validationRejection - target) < 0.002, `${target}: ${r.validationRejection}`);
    const held = rejectionRate(maxSoftmax(b.logits, 10, r.temperature), r.threshold);
    assert.ok(Math.abs(held - target) < 0.02, `${target}: held-out rejection ${held}`);
  }
  assert.equal(rejectionThreshold([0.9, 0.5, 0.7, 0.99], 0.25), 0.7);
  assert.equal(rejectionRate([0.9, 0.5, 0.7, 0.99], rejectionThreshold([0.9, 0.5, 0.7, 0.99], 0.1)), 0);
  assert.throws(() => rejectionThreshold([0.5], 1), TlcvError);
});

test('AUROC is the Mann-Whitney statistic, ties counting half', () => {
  assert.equal(auroc([0.9, 0.8], [0.3, 0.85]), 0.75);
  assert.equal(auroc([1, 2, 3], [0]), 1);
  assert.equal(auroc([0], [1, 2]), 0);
  assert.equal(auroc([0.5, 0.5], [0.5]), 0.5);
  assert.throws(() => auroc([], [1]), TlcvError);
});

test('the ncm score is minus the distance of the centred unit feature to the nearest unit class mean', () => {
  // Class means along x and y (lengths 2 and 3 do not matter), centre (1, 1).
  const s = ncmDistanceScores([3, 1, 1, 5, 0, 0], 2, [1, 1], [2, 0, 0, 3]);
  assert.ok(Math.abs(s[0]!) < 1e-12 && Math.abs(s[1]!) < 1e-12);
  // (0, 0) - (1, 1) points at (-1, -1)/sqrt(2): distance to (1, 0) is sqrt(2 + sqrt(2)).
  assert.ok(Math.abs(s[2]! + Math.sqrt(2 + Math.sqrt(2))) < 1e-12);
});

test('calibrate refuses logits and labels that do not fit', () => {
  assert.throws(() => calibrate({ logits: [1, 2, 3], labels: [0, 1], numClasses: 2 }), /3 logits for 2 labels/);
  assert.throws(() => calibrate({ logits: [1, 2], labels: [2], numClasses: 2 }), TlcvError);
  assert.throws(() => calibrate({ logits: [], labels: [], numClasses: 2 }), TlcvError);
});
