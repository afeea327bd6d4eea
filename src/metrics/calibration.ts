/**
 * Calibrated answers and "unknown" (issue 23, part 2), as plain arithmetic on a validation
 * split's logits: temperature scaling (Guo et al., 2017: one scalar T, logits / T, fitted by
 * minimising the negative log-likelihood, which leaves every argmax where it was), the ECE
 * before and after, and an open-set threshold on a score (max softmax, Hendrycks & Gimpel 2017;
 * or minus the distance to the nearest class mean for ncm heads) chosen so that a target
 * fraction of the validation images, all of known classes, would be rejected. `calibrate` is
 * the one call a run (pretrain, transfer, fit) makes with its validation logits and labels.
 */
import { TlcvError, argumentError } from '../errors.js';
import { expectedCalibrationError } from './classification.js';

/** How an image's open-set score is computed: higher means more like a known class. */
export type UnknownScore = 'max-softmax' | 'ncm-distance';

/** What `calibrate` fitted on a validation split: a model folder keeps it as `calibration`. */
export interface CalibrationRecord {
  /** Logits are divided by this before the softmax (1: unchanged). */
  temperature: number;
  /** The score the threshold applies to. `max-softmax` is the largest calibrated probability. */
  score: UnknownScore;
  /** An image whose score is below this is answered `unknown`. */
  threshold: number;
  /** The fraction of known (validation) images the threshold was chosen to reject. */
  targetRejection: number;
  /** The fraction it does reject on the validation split (ties and small splits move it off the target). */
  validationRejection: number;
  /** Expected calibration error (15 bins) on the validation split before and after scaling. */
  eceBefore: number;
  eceAfter: number;
  /** Mean negative log-likelihood before and after scaling. */
  nllBefore: number;
  nllAfter: number;
  /** Validation images it was fitted on. */
  images: number;
}

/** A batch of logits, row-major [N, C], with a label per row. */
export interface LabelledLogits {
  logits: ArrayLike<number>;
  labels: ArrayLike<number>;
  numClasses: number;
}

function rowsOf(d: LabelledLogits): number {
  const { logits, labels, numClasses: c } = d;
  if (!Number.isInteger(c) || c < 1) throw argumentError('numClasses', 'a positive integer', c);
  if (logits.length !== labels.length * c) throw new TlcvError('ARGUMENT', `calibration: ${logits.length} logits for ${labels.length} labels of ${c} classes (expected ${labels.length * c})`);
  for (let i = 0; i < labels.length; i += 1) {
    const y = labels[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < c)) throw new TlcvError('DATA', `calibration: label ${y} is outside [0, ${c})`);
  }
  return labels.length;
}

/**
 * Softmax of logits / temperature, row by row (float64, max subtracted).
 *
 * @example
 * softmaxRows([2, 0], 2, 2); // [0.731, 0.269]
 */
export function softmaxRows(logits: ArrayLike<number>, numClasses: number, temperature = 1): Float64Array {
  const out = new Float64Array(logits.length);
  for (let at = 0; at < logits.length; at += numClasses) {
    let max = -Infinity;
    for (let c = 0; c < numClasses; c += 1) max = Math.max(max, logits[at + c]! / temperature);
    let sum = 0;
    for (let c = 0; c < numClasses; c += 1) sum += out[at + c] = Math.exp(logits[at + c]! / temperature - max);
    for (let c = 0; c < numClasses; c += 1) out[at + c]! /= sum;
  }
  return out;
}

/** Mean negative log-likelihood of the labels under softmax(logits / T). */
export function meanNll(d: LabelledLogits, temperature: number): number {
  const n = rowsOf(d);
  const c = d.numClasses;
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    let max = -Infinity;
    for (let j = 0; j < c; j += 1) max = Math.max(max, d.logits[i * c + j]! / temperature);
    let sum = 0;
    for (let j = 0; j < c; j += 1) sum += Math.exp(d.logits[i * c + j]! / temperature - max);
    total += Math.log(sum) + max - d.logits[i * c + d.labels[i]!]! / temperature;
  }
  return n === 0 ? 0 : total / n;
}

/** The temperatures searched: wide enough for any network seen in practice, both sides of 1. */
export const TEMPERATURE_RANGE: readonly [number, number] = [0.05, 20];

/**
 * The temperature minimising the validation NLL: golden-section search on log T over
 * TEMPERATURE_RANGE (the NLL is convex in 1 / T, so unimodal in log T), to 1e-4 relative.
 *
 * @example
 * const t = fitTemperature({ logits, labels, numClasses: 10 }); // e.g. 1.7 for an overconfident net
 */
export function fitTemperature(d: LabelledLogits): number {
  if (rowsOf(d) === 0) throw new TlcvError('DATA', 'calibration: no validation images to fit a temperature on');
  let lo = Math.log(TEMPERATURE_RANGE[0]);
  let hi = Math.log(TEMPERATURE_RANGE[1]);
  const f = (u: number): number => meanNll(d, Math.exp(u));
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  while (hi - lo > 1e-4) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = f(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Each row's max-softmax score at `temperature` (the calibrated confidence).
 *
 * @example
 * maxSoftmax([2, 0, 0, 2], 2); // [0.881, 0.881]
 */
export function maxSoftmax(logits: ArrayLike<number>, numClasses: number, temperature = 1): Float64Array {
  const p = softmaxRows(logits, numClasses, temperature);
  const out = new Float64Array(p.length / numClasses);
  for (let i = 0; i < out.length; i += 1) {
    let m = 0;
    for (let c = 0; c < numClasses; c += 1) m = Math.max(m, p[i * numClasses + c]!);
    out[i] = m;
  }
  return out;
}

/**
 * The ncm open-set score of each row of features [N, D]: minus the Euclidean distance from
 * the feature (centred on `center` and scaled to unit length, as the ncm head sees it) to the
 * nearest of the unit-length class means [C, D]. Higher is more like a known class.
 *
 * @example
 * ncmDistanceScores([1, 0], 2, [0, 0], [1, 0, 0, 1]); // [-0]: the feature is on class 0's mean
 */
export function ncmDistanceScores(features: ArrayLike<number>, dim: number, center: ArrayLike<number>, classMeans: ArrayLike<number>): Float64Array {
  const n = features.length / dim;
  const k = classMeans.length / dim;
  const means = Float64Array.from(classMeans);
  for (let c = 0; c < k; c += 1) {
    let s = 0;
    for (let j = 0; j < dim; j += 1) s += means[c * dim + j]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j += 1) means[c * dim + j]! *= inv;
  }
  const out = new Float64Array(n);
  const z = new Float64Array(dim);
  for (let i = 0; i < n; i += 1) {
    let s = 0;
    for (let j = 0; j < dim; j += 1) s += (z[j] = features[i * dim + j]! - center[j]!) ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    let best = Infinity;
    for (let c = 0; c < k; c += 1) {
      let d2 = 0;
      for (let j = 0; j < dim; j += 1) d2 += (z[j]! * inv - means[c * dim + j]!) ** 2;
      best = Math.min(best, d2);
    }
    out[i] = -Math.sqrt(best);
  }
  return out;
}

/**
 * The threshold rejecting (score < threshold) the fraction `target` of `knownScores`: the
 * target-quantile of the scores, so that floor(target * N) of them fall below it when no two
 * tie. A target below 1 / N rejects nothing (the lowest score: below it, none).
 *
 * @example
 * rejectionThreshold([0.9, 0.5, 0.7, 0.99], 0.25); // 0.7: rejects 0.5 alone
 */
export function rejectionThreshold(knownScores: ArrayLike<number>, target: number): number {
  if (!(target >= 0 && target < 1)) throw argumentError('target rejection rate', 'a fraction in [0, 1)', target);
  if (knownScores.length === 0) throw new TlcvError('DATA', 'calibration: no validation images to choose a threshold on');
  const sorted = Float64Array.from(knownScores).sort();
  const k = Math.floor(target * sorted.length);
  return sorted[k]!;
}

/** The fraction of scores below the threshold: what it rejects. */
export function rejectionRate(scores: ArrayLike<number>, threshold: number): number {
  let r = 0;
  for (let i = 0; i < scores.length; i += 1) if (scores[i]! < threshold) r += 1;
  return scores.length === 0 ? 0 : r / scores.length;
}

/**
 * Area under the ROC curve of telling known from unknown by the score (higher: known): the
 * chance that a random known image scores above a random unknown one, ties counting half
 * (Mann-Whitney U). 0.5 is chance, 1 perfect.
 *
 * @example
 * auroc([0.9, 0.8], [0.3, 0.85]); // 0.75
 */
export function auroc(knownScores: ArrayLike<number>, unknownScores: ArrayLike<number>): number {
  const n1 = knownScores.length;
  const n0 = unknownScores.length;
  if (n1 === 0 || n0 === 0) throw new TlcvError('DATA', `AUROC needs known and unknown scores (got ${n1} and ${n0})`);
  const all = [...Array.from(knownScores, (s) => ({ s, known: true })), ...Array.from(unknownScores, (s) => ({ s, known: false }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j += 1;
    const rank = (i + 1 + j) / 2;
    for (let t = i; t < j; t += 1) if (all[t]!.known) rankSum += rank;
    i = j;
  }
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

export interface CalibrateOptions {
  /** Fraction of known images the open-set threshold may reject (default 0.05). */
  targetRejection?: number;
  /** Scores to threshold instead of the calibrated max softmax (ncm: ncmDistanceScores of the same images). */
  scores?: { kind: UnknownScore; values: ArrayLike<number> };
}

/** The default fraction of known images the unknown threshold rejects. */
export const DEFAULT_TARGET_REJECTION = 0.05;

/**
 * Temperature scaling and the unknown threshold from a validation split's logits and labels:
 * what `--unknown auto` records in a model folder. Pure arithmetic; call it with the logits of
 * any forward (a run's validation pass, `tlcv fit`'s split).
 *
 * @example
 * const record = calibrate({ logits, labels, numClasses: 5 });
 * record.eceAfter <= record.eceBefore; // true in practice; record.threshold answers "unknown" below it
 */
export function calibrate(d: LabelledLogits, o: CalibrateOptions = {}): CalibrationRecord {
  const target = o.targetRejection ?? DEFAULT_TARGET_REJECTION;
  const n = rowsOf(d);
  const temperature = fitTemperature(d);
  const c = d.numClasses;
  const before = softmaxRows(d.logits, c, 1);
  const after = softmaxRows(d.logits, c, temperature);
  const scores = o.scores ?? { kind: 'max-softmax' as const, values: maxSoftmax(d.logits, c, temperature) };
  if (scores.values.length !== n) throw new TlcvError('ARGUMENT', `calibration: ${scores.values.length} scores for ${n} images`);
  const threshold = rejectionThreshold(scores.values, target);
  return {
    temperature,
    score: scores.kind,
    threshold,
    targetRejection: target,
    validationRejection: rejectionRate(scores.values, threshold),
    eceBefore: expectedCalibrationError(before, d.labels, c),
    eceAfter: expectedCalibrationError(after, d.labels, c),
    nllBefore: meanNll(d, 1),
    nllAfter: meanNll(d, temperature),
    images: n,
  };
}
