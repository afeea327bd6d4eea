/**
 * How long the demo's target stage trains, from the speed the source stage measured: the six
 * target runs (scratch, feature extraction and fine-tuning at each label count) take about 2.5
 * minutes at 476 images/s and 5 at 230, on top of the source stage. So that the whole demo stays
 * within about five minutes, their epochs are scaled by the largest of a few FIXED factors whose
 * predicted time fits what the source stage left (fixed, as the source tiers are, so that one
 * machine gets the same table run after run).
 */

/** The factors the target epochs are scaled by, largest first. */
export const TARGET_SCALES = [1, 0.5, 0.25] as const;
/** The whole demo's budget, in seconds. */
export const DEMO_BUDGET_SECONDS = 300;
/**
 * Seconds outside training: start-up, loading the digits, evaluating six models on the ~10,000
 * remaining digits and writing the report (about 40 s measured on a two-core AMD EPYC).
 */
export const DEMO_OVERHEAD_SECONDS = 45;
/**
 * The target runs' speed as a share of the source stage's: batches of 32 and 64 with augmentation
 * train slower per image than the source's 128 (measured: 233 to 390 against 476 images/s).
 */
export const TARGET_SPEED_SHARE = 0.7;

/** The target recipe's epochs at `labelsPerClass` before scaling: few labels get many short epochs. */
export function baseTargetEpochs(labelsPerClass: number, quick: boolean): number {
  return quick ? 8 : labelsPerClass >= 50 ? 30 : 60;
}

/** Epochs after scaling, at least one. */
export function scaledEpochs(labelsPerClass: number, quick: boolean, scale: number): number {
  return Math.max(1, Math.round(baseTargetEpochs(labelsPerClass, quick) * scale));
}

/**
 * Images the target stage trains on at scale 1: scratch and fine-tuning pass over every image
 * each epoch; feature extraction trains its head on cached features, which takes seconds.
 */
export function targetImages(labelsPerClass: number[], classes: number): number {
  return labelsPerClass.reduce((sum, k) => sum + 2 * baseTargetEpochs(k, false) * k * classes, 0);
}

export interface TargetPlan {
  scale: number;
  /** Predicted training seconds of the target stage at that scale (null: nothing was measured). */
  predictedSeconds: number | null;
}

/**
 * The largest scale whose predicted target stage fits the demo's budget after the source stage's
 * predicted seconds and the overhead; the smallest when none fits.
 *
 * @example
 * chooseTargetScale({ imagesPerSecond: 230, sourceSeconds: 104, images: 72000 }); // { scale: 0.25, predictedSeconds: 112 }
 */
export function chooseTargetScale(o: { imagesPerSecond: number; sourceSeconds: number; images: number }): TargetPlan {
  const left = DEMO_BUDGET_SECONDS - DEMO_OVERHEAD_SECONDS - o.sourceSeconds;
  const seconds = (scale: number): number => (scale * o.images) / (o.imagesPerSecond * TARGET_SPEED_SHARE);
  const scale = TARGET_SCALES.find((s) => seconds(s) <= left) ?? TARGET_SCALES[TARGET_SCALES.length - 1]!;
  return { scale, predictedSeconds: seconds(scale) };
}

/**
 * The one line the demo prints when it shortens the target stage (nothing at full length).
 *
 * @example
 * describeTargetPlan({ scale: 0.5, predictedSeconds: 108 });
 * // 'the target stage trains for 1/2 of its epochs (about 108 s) so that the demo stays within 5 minutes; --source-images 60000 runs everything at full length'
 */
export function describeTargetPlan(p: TargetPlan): string | null {
  if (p.scale === 1) return null;
  const about = p.predictedSeconds === null ? '' : ` (about ${p.predictedSeconds.toFixed(0)} s)`;
  return `the target stage trains for 1/${Math.round(1 / p.scale)} of its epochs${about} so that the demo stays within ${DEMO_BUDGET_SECONDS / 60} minutes; --source-images 60000 runs everything at full length`;
}
