/**
 * Unsupervised domain adaptation of a trained model to a target domain whose labels are never
 * read: AdaBN (BatchNorm statistics recomputed on the target), DANN (a Learner callback that
 * trains against a domain classifier) and class-balanced pseudo-labelling (rounds of fit on
 * source plus confidently labelled target images). A labelled target test set, when given, is
 * scored before and after (and after every epoch) for the record, and for nothing else.
 */
import { TlcvError, argumentError } from '../errors.js';
import { concatDatasets, type ImageDataset } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { layOutForPlan, tunePlanOn, type ExecutionPlan } from '../execution/index.js';
import { adaptBatchNorm, checkAdaBnApplies, pseudoLabelRound, withoutLabels, type AdaBnResult, type DannOptions } from '../transfer/adapt/index.js';
import { Dann, Learner, TargetEvaluation, loaderFor, resolveTrainOptions, type Callback, type DannEpochStats, type EpochRecord, type TrainOptions } from '../train/index.js';

export const ADAPT_METHODS = ['adabn', 'dann', 'pseudo-label'] as const;
export type AdaptMethod = (typeof ADAPT_METHODS)[number];

/**
 * Training settings of the methods that train, over TRAIN_DEFAULTS: a trained model is adapted
 * with a gentler peak rate than training from scratch, for few epochs (pseudo-labelling: per
 * round). The batch is at most ADAPT_BATCH_CAP: adaptRun chooses it from the source data and
 * the memory (src/runs/run-sizes.ts); adaptModel called directly takes the cap.
 */
export const ADAPT_TRAIN_DEFAULTS: Record<'dann' | 'pseudo-label', Partial<TrainOptions>> = {
  dann: { epochs: 5, lr: 1e-3 },
  'pseudo-label': { epochs: 2, lr: 1e-3 },
};
export const ADAPT_BATCH_CAP = 64;

/**
 * Pseudo-labelling's defaults. The threshold is 0 (the images are ranked by confidence within
 * each class, and the balancing keeps an equal share of each): a source model trained with label
 * smoothing 0.1 gives at most about 0.91 to any class, and on a shifted domain few images pass
 * 0.9 (14 of 500 rotated digits), while a threshold of 0 did best in the rotated-digits runs.
 */
export const PSEUDO_LABEL_DEFAULTS = { rounds: 3, threshold: 0 } as const;

export interface PseudoLabelSettings {
  /** Rounds of (label the target, train) (default 3). */
  rounds?: number;
  /** Minimum top-class probability for a target image to be labelled (default 0). */
  threshold?: number;
  /** Most pseudo-labelled images per class (default: an equal share of the confident ones). */
  maxPerClass?: number;
}

export interface AdaptRequest {
  method: AdaptMethod;
  /** Labelled source-domain images: what dann and pseudo-label train on (adabn does not need them). */
  source?: ImageDataset | null;
  /** Source validation images: the report's source curve, and early stopping when `patience` is set. */
  sourceVal?: ImageDataset | null;
  /** Target-domain images. Their labels are replaced by zeros on entry: nothing can read them. */
  target: ImageDataset;
  /** A labelled target test set, scored for the record only (never trained on, never used to choose). */
  targetTest?: ImageDataset | null;
  /** Training options (dann, pseudo-label) over {@link ADAPT_TRAIN_DEFAULTS}. */
  options?: Partial<TrainOptions>;
  dann?: DannOptions;
  pseudoLabel?: PseudoLabelSettings;
  /** Callbacks added to every fit (progress, a checkpoint of the last round). */
  callbacks?: Callback[];
  log?: (line: string) => void;
}

export interface PseudoLabelRoundSummary {
  round: number;
  /** Target images at or above the threshold, and those kept after balancing. */
  confident: number;
  selected: number;
  perClass: number[];
}

/** Target-test and source-validation scores at one moment (absent where no such data was given). */
export interface AdaptScores {
  target?: EvaluationResult;
  source?: EvaluationResult;
}

export interface AdaptResult {
  method: AdaptMethod;
  before: AdaptScores;
  after: AdaptScores;
  /** Epoch records of every fit in order (pseudo-label rounds numbered on), with targetAcc when a target test was given. */
  history: EpochRecord[];
  lrTrace: number[];
  epochSeconds: number[];
  /** The plan the adapted model was last run with. */
  plan: ExecutionPlan;
  options: TrainOptions;
  adabn?: AdaBnResult;
  dann?: DannEpochStats[];
  rounds?: PseudoLabelRoundSummary[];
  seconds: number;
}

function checkRequest(r: AdaptRequest): void {
  if (!ADAPT_METHODS.includes(r.method)) throw argumentError('method', ADAPT_METHODS.join(', '), r.method);
  if (r.method !== 'adabn' && !r.source) throw new TlcvError('ARGUMENT', `${r.method} trains on labelled source images: give the source data (--source SPEC)`);
  const p = r.pseudoLabel ?? {};
  if (p.rounds !== undefined && !(Number.isInteger(p.rounds) && p.rounds >= 1)) throw argumentError('rounds', 'a positive integer', p.rounds);
}

/** Scores the model on what was given, with an inference plan timed on its first batch. */
async function scores(model: ClassifierModel, r: AdaptRequest, options: TrainOptions, classes: string[]): Promise<AdaptScores> {
  const learn = new Learner({ model, options, classes, quiet: true });
  const out: AdaptScores = {};
  if (r.targetTest) out.target = await learn.evaluate(r.targetTest, { batchSize: 256 });
  if (r.sourceVal) out.source = await learn.evaluate(r.sourceVal, { batchSize: 256 });
  return out;
}

async function inferencePlan(model: ClassifierModel, data: ImageDataset, o: TrainOptions): Promise<ExecutionPlan> {
  const source = loaderFor(data, model, o, { train: false, batchSize: 256 });
  const plan = await tunePlanOn(source, { model, stages: model.stages(), frozenStages: 0, train: false, precision: o.precision, channelsLast: o.channelsLast, device: o.device });
  layOutForPlan(model, plan);
  return plan;
}

/** A Learner that fine-tunes every layer on `train`, with the run's extra callbacks and the target-test record. */
function adaptLearner(model: ClassifierModel, train: ImageDataset, r: AdaptRequest, options: TrainOptions, classes: string[], extra: Callback[]): Learner {
  const callbacks: Callback[] = [...extra, ...(r.targetTest ? [new TargetEvaluation(r.targetTest)] : []), ...(r.callbacks ?? [])];
  // Info lines reach the caller once: through a callback that shows them (Progress), else through log.
  const shown = callbacks.some((c) => c.onLog !== undefined);
  const learn = new Learner({ model, train, val: r.sourceVal ?? null, options, classes, callbacks, quiet: true, ...(r.log && !shown ? { log: r.log } : {}) });
  learn.setStrategy('fine-tune', 'all');
  return learn;
}

/**
 * Adapts `model` in place to the target domain and returns the scores before and after.
 *
 * @example
 * const { model } = loadModelFolder('runs/mnist');
 * const r = await adaptModel(model, {
 *   method: 'dann',
 *   source: await loadDataset('mnist:train'),
 *   target: await loadDataset('mnist:test@frac=0.5,seed=1,shift=rotate:45'),
 *   targetTest: await loadDataset('mnist:test@frac=0.5,seed=1,rest,shift=rotate:45'),
 * });
 * console.log(r.before.target!.accuracy, '->', r.after.target!.accuracy);
 */
export async function adaptModel(model: ClassifierModel, r: AdaptRequest): Promise<AdaptResult> {
  checkRequest(r);
  // A model without BatchNorm is refused now, not after minutes of scoring and plan timing (DINOv2 at 224 px).
  if (r.method === 'adabn') checkAdaBnApplies(model);
  const t0 = performance.now();
  const log = r.log ?? (() => undefined);
  const target = withoutLabels(r.target);
  const classes = r.source?.classes ?? Array.from({ length: model.numClasses }, (_, i) => String(i));
  const options = resolveTrainOptions({ batchSize: ADAPT_BATCH_CAP, ...(r.method === 'adabn' ? {} : ADAPT_TRAIN_DEFAULTS[r.method]), ...(r.options ?? {}) });
  const before = await scores(model, r, options, classes);
  const result: Omit<AdaptResult, 'after' | 'seconds'> = { method: r.method, before, history: [], lrTrace: [], epochSeconds: [], plan: null as unknown as ExecutionPlan, options };
  if (r.method === 'adabn') {
    result.plan = await inferencePlan(model, target, options);
    result.adabn = await adaptBatchNorm(model, loaderFor(target, model, options, { train: false, batchSize: options.batchSize }), result.plan);
    log(`adabn: recomputed ${result.adabn.layers} BatchNorm layers' statistics on ${result.adabn.images} target images`);
  } else if (r.method === 'dann') {
    const dann = new Dann(target, r.dann ?? {});
    try {
      const learn = adaptLearner(model, r.source!, r, options, classes, [dann]);
      const fit = await learn.fit();
      Object.assign(result, { history: fit.history, lrTrace: fit.lrTrace, epochSeconds: learn.epochSeconds, plan: learn.plan!, dann: [...dann.epochs] });
    } finally {
      dann.dispose();
    }
  } else {
    await pseudoLabelRounds(model, target, r, options, classes, result);
  }
  const after = await scores(model, r, options, classes);
  return { ...result, after, seconds: (performance.now() - t0) / 1000 };
}

async function pseudoLabelRounds(model: ClassifierModel, target: ImageDataset, r: AdaptRequest, options: TrainOptions, classes: string[], result: Omit<AdaptResult, 'after' | 'seconds'>): Promise<void> {
  const p = r.pseudoLabel ?? {};
  const rounds = p.rounds ?? PSEUDO_LABEL_DEFAULTS.rounds;
  const threshold = p.threshold ?? PSEUDO_LABEL_DEFAULTS.threshold;
  const log = r.log ?? (() => undefined);
  const source = r.source!;
  let plan = await inferencePlan(model, target, options);
  result.rounds = [];
  for (let round = 1; round <= rounds; round += 1) {
    const { selection, dataset } = pseudoLabelRound(model, target, plan, classes, { threshold, ...(p.maxPerClass === undefined ? {} : { maxPerClass: p.maxPerClass }) });
    result.rounds.push({ round, confident: selection.confident, selected: selection.indices.length, perClass: selection.perClass });
    log(`pseudo-label round ${round}/${rounds}: ${selection.confident} of ${target.n} target images at or above ${threshold}; ${selection.indices.length} kept (at most ${selection.cap} per class)`);
    if (selection.indices.length === 0) {
      if (round === 1) throw new TlcvError('DATA', `pseudo-label: no target image reached the confidence threshold ${threshold}; lower it (--threshold)`);
      log(`pseudo-label: no confident target image in round ${round}; stopping after ${round - 1} rounds`);
      break;
    }
    const train = concatDatasets([source, dataset], `${source.name} + ${dataset.name}`, 'source + pseudo-labelled target');
    // Each round draws its own order and augmentation, reproducibly.
    const learn = adaptLearner(model, train, r, { ...options, seed: options.seed + round - 1 }, classes, []);
    const fit = await learn.fit();
    const offset = result.history.length;
    result.history.push(...fit.history.map((e) => ({ ...e, epoch: e.epoch + offset })));
    result.lrTrace.push(...fit.lrTrace);
    result.epochSeconds.push(...learn.epochSeconds);
    plan = learn.plan!;
  }
  result.plan = plan;
}
