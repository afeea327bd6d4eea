/**
 * Likely label errors by confident learning (Northcutt, Jiang and Chuang, JAIR 2021), the rule
 * of cleanlab's `find_label_issues`: out-of-fold class probabilities from a linear probe on
 * each image's features; per class j a threshold t_j, the mean probability of j over the images
 * labelled j; the confident joint C[i][j] counts images labelled i whose most probable class
 * among those over their threshold is j; C is calibrated so each row sums to its class's count;
 * then for each i != j the C[i][j] images labelled i with the largest margin p(j) - p(i) are
 * flagged ("prune by noise rate", cleanlab's default; 'both' also asks that the image's
 * confident class differ from its label: fewer, surer issues). Issues are ranked by self-confidence,
 * the probability of the given label (lowest first).
 */
import { F, fromTypedArray, tidy } from '../tensor/index.js';
import { Rng } from '../data/index.js';
import { fitProbe } from '../transfer/heads/index.js';

export interface LabelIssue {
  /** Position in the features given. */
  index: number;
  given: number;
  /** The class confident learning believes instead. */
  suggested: number;
  /** Out-of-fold probability of the given label. */
  selfConfidence: number;
}

export interface LabelErrorOptions {
  /** Folds of the out-of-fold probabilities (default 5). */
  folds?: number;
  seed?: number;
  /** The probe's L2 strength (default 0.1 on standardised features: best of 0.01, 0.1, 1 on planted digits). */
  lambda?: number;
  /** L-BFGS iterations per fold (default 200). */
  maxIter?: number;
}

const FOLD_STREAM = 0xd0c7;

/** Stratified fold of each image: class members shuffled, then dealt round-robin. */
export function stratifiedFolds(labels: Int32Array, numClasses: number, folds: number, seed: number): Int32Array {
  const fold = new Int32Array(labels.length);
  const rng = new Rng(seed, FOLD_STREAM);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((y, i) => byClass[y]!.push(i));
  let offset = 0;
  for (const members of byClass) {
    rng.shuffle(members).forEach((i, k) => (fold[i] = (k + offset) % folds));
    offset += members.length;
  }
  return fold;
}

/**
 * Out-of-fold class probabilities [N][C]: each fold's images scored by a probe fitted on the
 * other folds. A class absent from a fold's training part gets probability 0 there.
 */
export function outOfFoldProbabilities(features: Float32Array, dim: number, labels: Int32Array, numClasses: number, o: LabelErrorOptions = {}): Float64Array {
  const n = labels.length;
  const folds = o.folds ?? 5;
  const fold = stratifiedFolds(labels, numClasses, folds, o.seed ?? 0);
  const probs = new Float64Array(n * numClasses);
  for (let k = 0; k < folds; k += 1) {
    const trainIdx: number[] = [];
    const testIdx: number[] = [];
    for (let i = 0; i < n; i += 1) (fold[i] === k ? testIdx : trainIdx).push(i);
    if (testIdx.length === 0 || trainIdx.length === 0) continue;
    // The probe wants every class present: relabel the classes this fold trains on.
    const present = [...new Set(trainIdx.map((i) => labels[i]!))].sort((a, b) => a - b);
    const local = new Map(present.map((c, j) => [c, j]));
    const rows = (idx: number[]): Float32Array => {
      const out = new Float32Array(idx.length * dim);
      idx.forEach((i, r) => out.set(features.subarray(i * dim, (i + 1) * dim), r * dim));
      return out;
    };
    const trainLabels = Int32Array.from(trainIdx, (i) => local.get(labels[i]!)!);
    tidy(() => {
      const x = fromTypedArray(rows(trainIdx), [trainIdx.length, dim]);
      const probe = fitProbe(x, trainLabels, present.length, { lambdas: [o.lambda ?? 0.1], maxIter: o.maxIter ?? 200 });
      try {
        const p = tidy(() => F.softmax(F.linear(fromTypedArray(rows(testIdx), [testIdx.length, dim]), probe.weight, probe.bias), 1).toFlatArray());
        testIdx.forEach((i, r) => present.forEach((c, j) => (probs[i * numClasses + c] = p[r * present.length + j]!)));
      } finally {
        probe.weight.dispose();
        probe.bias.dispose();
      }
    });
  }
  return probs;
}

/**
 * Label issues by confident learning from out-of-fold probabilities [N][C] (flattened).
 *
 * @example
 * const issues = findLabelIssues(labels, probs, 10); // [{ index, given, suggested, selfConfidence }]
 */
export function findLabelIssues(labels: Int32Array, probs: Float64Array, numClasses: number, filterBy: 'prune_by_noise_rate' | 'both' = 'prune_by_noise_rate'): LabelIssue[] {
  const n = labels.length;
  const C = numClasses;
  const p = (i: number, j: number): number => probs[i * C + j]!;
  const counts = new Float64Array(C);
  const thresholds = new Float64Array(C);
  for (let i = 0; i < n; i += 1) {
    counts[labels[i]!]! += 1;
    thresholds[labels[i]!]! += p(i, labels[i]!);
  }
  for (let j = 0; j < C; j += 1) thresholds[j] = counts[j]! > 0 ? thresholds[j]! / counts[j]! : 1;
  // The confident joint, and each image's confident class (or -1 when over no threshold).
  const joint = new Float64Array(C * C);
  const confident = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i += 1) {
    let best = -1;
    for (let j = 0; j < C; j += 1) if (counts[j]! > 0 && p(i, j) >= thresholds[j]! - 1e-9 && (best < 0 || p(i, j) > p(i, best))) best = j;
    confident[i] = best;
    if (best >= 0) joint[labels[i]! * C + best]! += 1;
  }
  // Calibrate: row i sums to the number of images labelled i.
  for (let i = 0; i < C; i += 1) {
    let row = 0;
    for (let j = 0; j < C; j += 1) row += joint[i * C + j]!;
    for (let j = 0; j < C; j += 1) joint[i * C + j] = row > 0 ? (joint[i * C + j]! / row) * counts[i]! : 0;
  }
  const members: number[][] = Array.from({ length: C }, () => []);
  labels.forEach((y, i) => members[y]!.push(i));
  const flagged = new Map<number, number>();
  for (let i = 0; i < C; i += 1) {
    // Keep at least one image per class, as cleanlab does (min_examples_per_class = 1).
    let budget = Math.max(0, members[i]!.length - 1);
    for (let j = 0; j < C; j += 1) {
      if (j === i) continue;
      const take = Math.min(Math.round(joint[i * C + j]!), budget);
      if (take <= 0) continue;
      const ranked = members[i]!.map((x) => ({ x, margin: p(x, j) - p(x, i) })).sort((a, b) => b.margin - a.margin);
      let taken = 0;
      for (const { x } of ranked) {
        if (taken >= take) break;
        if (flagged.has(x)) continue;
        flagged.set(x, j);
        taken += 1;
      }
      budget -= taken;
    }
  }
  const issues: LabelIssue[] = [];
  for (const [index, pruneClass] of flagged) {
    const given = labels[index]!;
    if (filterBy === 'both' && (confident[index]! < 0 || confident[index] === given)) continue;
    // The suggestion: the confident class when it disagrees, else the class it was pruned toward.
    const c = confident[index]!;
    issues.push({ index, given, suggested: c >= 0 && c !== given ? c : pruneClass, selfConfidence: p(index, given) });
  }
  return issues.sort((a, b) => a.selfConfidence - b.selfConfidence || a.index - b.index);
}
