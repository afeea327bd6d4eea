/**
 * Self-training with pseudo-labels (Lee, 2013), class-balanced as in CBST (Zou et al., 2018):
 * each round, the model labels the target images it is confident about, no class taking more
 * than its share, and the trainer then learns from source plus these pseudo-labelled images.
 * Target labels are never read: the images go through `withoutLabels` first.
 */
import { argumentError } from '../../errors.js';
import { F, noGrad, tidy } from '../../tensor/index.js';
import { DataLoader, checkDataset, takeIndices, type ImageDataset } from '../../data/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { withPlan, type ExecutionPlan } from '../../execution/index.js';

/**
 * The same images with every label set to 0, so that nothing downstream (a loader, a metric,
 * a bug) can learn from target labels, even when the target folder has them.
 *
 * @example
 * const target = withoutLabels(await loadDataset('folder:./target-photos'));
 */
export function withoutLabels(ds: ImageDataset): ImageDataset {
  return { ...ds, name: `${ds.name} (unlabelled)`, labels: new Int32Array(ds.n) };
}

/**
 * Class probabilities [n * C] (row-major) of every target image, in dataset order, from the
 * model in eval mode under the plan.
 */
export function predictProbabilities(model: ClassifierModel, target: ImageDataset, plan: ExecutionPlan, batchSize = 256): Float32Array {
  const loader = new DataLoader(withoutLabels(target), { batchSize, mean: model.config.mean, std: model.config.std });
  const out = new Float32Array(target.n * model.numClasses);
  let at = 0;
  model.eval();
  noGrad(() => {
    for (const batch of loader) {
      try {
        const probs = tidy(() => {
          const x = plan.channelsLast ? batch.x.contiguous('channelsLast') : batch.x;
          return F.softmax(withPlan(plan, () => model.forward(x)).float(), 1).toTypedArray() as Float32Array;
        });
        out.set(probs, at);
        at += probs.length;
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    }
  });
  return out;
}

export interface PseudoLabelOptions {
  /** Minimum top-class probability for an image to be labelled. */
  threshold?: number;
  /**
   * Most images any class may take. Default: an equal share of the confident images (their
   * number over the class count, rounded up), so one easy class cannot swamp the rest.
   */
  maxPerClass?: number;
}

export interface PseudoLabelSelection {
  /** Positions in the target set, ascending. */
  indices: Int32Array;
  /** The predicted class of each, in the same order. */
  labels: Int32Array;
  confidences: Float32Array;
  /** Selected images per class. */
  perClass: number[];
  /** Images at or above the threshold, before balancing. */
  confident: number;
  /** The cap each class had. */
  cap: number;
}

/**
 * Chooses pseudo-labels from class probabilities [n * C]: images whose top probability reaches
 * the threshold, each class keeping at most `cap` of them, the most confident first (ties to
 * the lower position).
 *
 * @example
 * const pick = selectPseudoLabels(predictProbabilities(model, target, plan), target.n, classes, { threshold: 0.9 });
 */
export function selectPseudoLabels(probs: Float32Array, n: number, numClasses: number, o: PseudoLabelOptions = {}): PseudoLabelSelection {
  const threshold = o.threshold ?? 0.9;
  if (!(threshold >= 0 && threshold <= 1)) throw argumentError('threshold', 'a probability in [0, 1]', threshold);
  if (probs.length !== n * numClasses) throw argumentError('probabilities', `${n} x ${numClasses} = ${n * numClasses} numbers`, `${probs.length} numbers`);
  const byClass: { i: number; p: number }[][] = Array.from({ length: numClasses }, () => []);
  let confident = 0;
  for (let i = 0; i < n; i += 1) {
    let best = 0;
    for (let c = 1; c < numClasses; c += 1) if (probs[i * numClasses + c]! > probs[i * numClasses + best]!) best = c;
    const p = probs[i * numClasses + best]!;
    if (p >= threshold) {
      byClass[best]!.push({ i, p });
      confident += 1;
    }
  }
  const cap = o.maxPerClass ?? Math.ceil(confident / numClasses);
  if (!Number.isInteger(cap) || cap < 0) throw argumentError('maxPerClass', 'a non-negative integer', cap);
  const chosen: { i: number; p: number; c: number }[] = [];
  const perClass = byClass.map((members, c) => {
    const kept = members.sort((a, b) => b.p - a.p || a.i - b.i).slice(0, cap);
    for (const m of kept) chosen.push({ ...m, c });
    return kept.length;
  });
  chosen.sort((a, b) => a.i - b.i);
  return {
    indices: Int32Array.from(chosen, (m) => m.i),
    labels: Int32Array.from(chosen, (m) => m.c),
    confidences: Float32Array.from(chosen, (m) => m.p),
    perClass,
    confident,
    cap,
  };
}

/**
 * The selected target images with their pseudo-labels, as a dataset any loader or trainer takes
 * (join it to the source data with concatDatasets).
 */
export function pseudoLabelledDataset(target: ImageDataset, selection: PseudoLabelSelection, classes: string[]): ImageDataset {
  const picked = takeIndices(withoutLabels(target), selection.indices, `${target.name} (pseudo-labelled, ${selection.indices.length} images)`);
  return checkDataset({ ...picked, labels: Int32Array.from(selection.labels), classes: [...classes] });
}

/**
 * One round: predict the target set, select, and build the pseudo-labelled dataset.
 *
 * @example
 * for (let round = 0; round < 3; round += 1) {
 *   const { dataset } = pseudoLabelRound(model, target, plan, source.classes, { threshold: 0.9 });
 *   // train on concatDatasets([source, dataset], 'source+pseudo', 'pseudo-label'), then repeat
 * }
 */
export function pseudoLabelRound(
  model: ClassifierModel,
  target: ImageDataset,
  plan: ExecutionPlan,
  classes: string[],
  o: PseudoLabelOptions = {},
): { selection: PseudoLabelSelection; dataset: ImageDataset } {
  const selection = selectPseudoLabels(predictProbabilities(model, target, plan), target.n, model.numClasses, o);
  return { selection, dataset: pseudoLabelledDataset(target, selection, classes) };
}
