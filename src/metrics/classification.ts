/**
 * Classification metrics streamed batch by batch over softmax outputs. Everything here is
 * plain arithmetic on typed arrays, so the evaluator can feed it `probs.toTypedArray()` and
 * tests can check it against counts made by hand.
 */
import { TlcvError, argumentError } from '../errors.js';

/** Precision, recall and F1 of one class. */
export interface ClassScores {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** How many samples truly belong to this class. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

/** One confidently wrong prediction, for the report's grid of mistakes. */
export interface WrongPrediction {
  /** The sample index (the `ids` given to `add`, else its position in the stream). */
  index: number;
  label: number;
  predicted: number;
  /** Softmax probability of the predicted class. */
  confidence: number;
}

/**
 * What `tlcv evaluate --json` prints. The keys `accuracy`, `top5`, `n`, `perClass` and
 * `confusion` are a contract with scripts; the others may grow.
 */
export interface EvaluationResult {
  accuracy: number;
  /** Top-min(5, numClasses) accuracy. */
  top5: number;
  n: number;
  /** Mean cross-entropy, -log p(target), with p clamped to 1e-12 so one certain mistake stays finite. */
  loss?: number;
  perClass: ClassScores[];
  /** Unweighted mean over the classes seen in the targets or the predictions (sklearn's default). */
  macro: AveragedScores;
  /** Mean weighted by support. */
  weighted: AveragedScores;
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][];
  /** Mean recall over the classes that have support (sklearn's balanced_accuracy_score). */
  balancedAccuracy: number;
  /** Expected calibration error over 15 equal-width confidence bins. */
  ece: number;
  /** The most confidently wrong predictions, most confident first (ties: lower index first). */
  worst: WrongPrediction[];
}

export interface AccumulatorOptions {
  /** k of the top-k accuracy; capped at numClasses. Default 5. */
  topK?: number;
  /** How many confidently wrong predictions to keep. Default 16. */
  keepWorst?: number;
  /** Confidence bins for the calibration error. Default 15, as in Guo et al. 2017. */
  calibrationBins?: number;
}

const PROB_FLOOR = 1e-12;

/**
 * Accumulates predictions batch by batch; `result` gives the same figures as one big batch.
 *
 * Zero division follows sklearn's `zero_division=0`: a class never predicted has precision 0,
 * a class with no support has recall 0, and F1 is 0 when precision + recall is 0.
 *
 * @example
 * const acc = new MetricsAccumulator(3);
 * acc.add(new Float32Array([0.7, 0.2, 0.1, 0.1, 0.3, 0.6]), [0, 1]);
 * acc.result(['cat', 'dog', 'fox']).accuracy; // 0.5
 */
export class MetricsAccumulator {
  readonly numClasses: number;
  readonly topK: number;
  readonly keepWorst: number;
  private readonly confusion: Float64Array;
  private readonly calibration: { count: Float64Array; confidence: Float64Array; correct: Float64Array };
  private n = 0;
  private topKHits = 0;
  private lossSum = 0;
  private worst: WrongPrediction[] = [];

  constructor(numClasses: number, options: AccumulatorOptions = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw argumentError('numClasses', 'positive integer', numClasses);
    const topK = options.topK ?? 5;
    const keepWorst = options.keepWorst ?? 16;
    const bins = options.calibrationBins ?? 15;
    if (!Number.isInteger(topK) || topK < 1) throw argumentError('topK', 'positive integer', topK);
    if (!Number.isInteger(keepWorst) || keepWorst < 0) throw argumentError('keepWorst', 'non-negative integer', keepWorst);
    if (!Number.isInteger(bins) || bins < 1) throw argumentError('calibrationBins', 'positive integer', bins);
    this.numClasses = numClasses;
    this.topK = Math.min(topK, numClasses);
    this.keepWorst = keepWorst;
    this.confusion = new Float64Array(numClasses * numClasses);
    this.calibration = { count: new Float64Array(bins), confidence: new Float64Array(bins), correct: new Float64Array(bins) };
  }

  /** Samples added so far. */
  get count(): number {
    return this.n;
  }

  /**
   * Adds one batch. `probs` is row-major `[batch, numClasses]` softmax output; `ids` names each
   * row for `worst` (default: its position in the whole stream).
   */
  add(probs: Float32Array | Float64Array | ArrayLike<number>, targets: Int32Array | ArrayLike<number>, ids?: ArrayLike<number>): void {
    const k = this.numClasses;
    const batch = targets.length;
    if (probs.length !== batch * k) {
      throw countError('probs', `${batch * k} values (${batch} targets x ${k} classes)`, `${probs.length} values`);
    }
    if (ids !== undefined && ids.length !== batch) throw countError('ids', `${batch} ids (one per target)`, `${ids.length}`);
    for (let row = 0; row < batch; row += 1) {
      const target = targets[row];
      if (!Number.isInteger(target) || target < 0 || target >= k) {
        throw argumentError(`targets[${row}]`, `integer class index in [0, ${k - 1}]`, target);
      }
      // Checked before anything is counted, so a bad batch leaves the accumulator as it was.
      for (let c = row * k; c < (row + 1) * k; c += 1) {
        if (Number.isNaN(probs[c])) throw argumentError(`probs row ${row}`, 'probabilities without NaN (did training diverge?)', 'NaN');
      }
    }
    for (let row = 0; row < batch; row += 1) {
      const base = row * k;
      const target = targets[row];
      let predicted = 0;
      let best = -Infinity;
      for (let c = 0; c < k; c += 1) {
        const p = probs[base + c];
        // Strict > keeps the first of tied maxima, as torch.argmax does.
        if (p > best) {
          best = p;
          predicted = c;
        }
      }
      const targetProb = probs[base + target];
      // Rank of the target among the classes, ties broken by class index like argmax above.
      let rank = 0;
      for (let c = 0; c < k && rank < this.topK; c += 1) {
        const p = probs[base + c];
        if (p > targetProb || (p === targetProb && c < target)) rank += 1;
      }
      if (rank < this.topK) this.topKHits += 1;
      this.confusion[target * k + predicted] += 1;
      this.lossSum -= Math.log(Math.max(targetProb, PROB_FLOOR));
      this.addCalibration(best, predicted === target);
      if (predicted !== target && this.keepWorst > 0) {
        this.worst.push({ index: ids === undefined ? this.n : ids[row], label: target, predicted, confidence: best });
      }
      this.n += 1;
    }
    // Trimming only when the list doubles keeps add() linear without a heap.
    if (this.worst.length > 2 * this.keepWorst) this.trimWorst();
  }

  /** The figures so far; `classNames` must have one name per class. */
  result(classNames: readonly string[]): EvaluationResult {
    const k = this.numClasses;
    if (classNames.length !== k) throw countError('classNames', `${k} names (one per class)`, `${classNames.length}`);
    const confusion: number[][] = [];
    for (let t = 0; t < k; t += 1) confusion.push(Array.from(this.confusion.subarray(t * k, (t + 1) * k)));
    const scores = scoresFromConfusion(confusion);
    this.trimWorst();
    const correct = confusion.reduce((sum, row, i) => sum + row[i], 0);
    return {
      accuracy: safeDivide(correct, this.n),
      top5: safeDivide(this.topKHits, this.n),
      n: this.n,
      loss: this.n > 0 ? this.lossSum / this.n : undefined,
      perClass: scores.perClass.map((s, i) => ({ class: classNames[i], ...s })),
      macro: scores.macro,
      weighted: scores.weighted,
      confusion,
      balancedAccuracy: scores.balancedAccuracy,
      ece: this.calibrationError(),
      worst: this.worst.map((w) => ({ ...w })),
    };
  }

  private addCalibration(confidence: number, correct: boolean): void {
    const bins = this.calibration.count.length;
    // Bins are (i/B, (i+1)/B]; a confidence of exactly 0 goes in the first.
    const bin = Math.min(bins - 1, Math.max(0, Math.ceil(confidence * bins) - 1));
    this.calibration.count[bin] += 1;
    this.calibration.confidence[bin] += confidence;
    if (correct) this.calibration.correct[bin] += 1;
  }

  private calibrationError(): number {
    if (this.n === 0) return 0;
    const { count, confidence, correct } = this.calibration;
    let ece = 0;
    for (let b = 0; b < count.length; b += 1) {
      if (count[b] > 0) ece += Math.abs(correct[b] - confidence[b]) / this.n;
    }
    return ece;
  }

  private trimWorst(): void {
    this.worst.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
    if (this.worst.length > this.keepWorst) this.worst.length = this.keepWorst;
  }
}

/** Per-class and averaged scores from a confusion matrix (rows = true class, columns = predicted). */
export function scoresFromConfusion(confusion: readonly (readonly number[])[]): {
  perClass: Omit<ClassScores, 'class'>[];
  macro: AveragedScores;
  weighted: AveragedScores;
  balancedAccuracy: number;
} {
  const k = confusion.length;
  const perClass: Omit<ClassScores, 'class'>[] = [];
  const macro = { precision: 0, recall: 0, f1: 0 };
  const weighted = { precision: 0, recall: 0, f1: 0 };
  let seen = 0;
  let total = 0;
  let recallSum = 0;
  let supported = 0;
  for (let c = 0; c < k; c += 1) {
    const tp = confusion[c][c];
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j += 1) {
      support += confusion[c][j];
      predicted += confusion[j][c];
    }
    const fp = predicted - tp;
    const fn = support - tp;
    const s = { precision: safeDivide(tp, predicted), recall: safeDivide(tp, support), f1: safeDivide(2 * tp, 2 * tp + fp + fn), support };
    perClass.push(s);
    if (support > 0 || predicted > 0) {
      seen += 1;
      macro.precision += s.precision;
      macro.recall += s.recall;
      macro.f1 += s.f1;
    }
    if (support > 0) {
      supported += 1;
      recallSum += s.recall;
      weighted.precision += s.precision * support;
      weighted.recall += s.recall * support;
      weighted.f1 += s.f1 * support;
      total += support;
    }
  }
  return {
    perClass,
    macro: { precision: safeDivide(macro.precision, seen), recall: safeDivide(macro.recall, seen), f1: safeDivide(macro.f1, seen) },
    weighted: { precision: safeDivide(weighted.precision, total), recall: safeDivide(weighted.recall, total), f1: safeDivide(weighted.f1, total) },
    balancedAccuracy: safeDivide(recallSum, supported),
  };
}

/**
 * Expected calibration error of one set of predictions: the support-weighted gap between
 * confidence and accuracy over `bins` equal-width confidence bins.
 *
 * @example
 * expectedCalibrationError([0.9, 0.1, 0.6, 0.4], [0, 1], 2, 10); // (|1 - 0.9| + |0 - 0.6|) / 2 = 0.35
 */
export function expectedCalibrationError(probs: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number, bins = 15): number {
  const acc = new MetricsAccumulator(numClasses, { keepWorst: 0, calibrationBins: bins });
  acc.add(probs, targets);
  return acc.result(Array.from({ length: numClasses }, (_, i) => String(i))).ece;
}

/** Like argumentError, but the received side is a count, not a value to quote. */
function countError(name: string, expected: string, received: string): TlcvError {
  return new TlcvError('ARGUMENT', `Expected ${expected} for ${name} but received ${received}`);
}

function safeDivide(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
