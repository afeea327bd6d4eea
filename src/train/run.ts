/**
 * Train a model on a dataset into a model folder: the shared body of `pretrain` and
 * `transfer`. Chooses precision, builds loaders, caches a frozen prefix when it can,
 * trains, evaluates on the validation split and writes weights, config, metrics and report.
 */
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';
import { DataLoader, fractionSplit, loadDataset, conformDataset, type ImageDataset } from '../data/index.js';
import { Augmenter, parseAugment } from '../transforms/index.js';
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { describePlan, type ExecutionPlan } from './precision.js';
import { tunePlanOn } from './plan-tuning.js';
import { readCheckpointPlan } from './checkpoint.js';
import { fitAsync, type BatchSource, type EpochRecord, type FitResult } from './trainer.js';
import { evaluateModel } from './evaluate.js';
import { createProgress } from './progress.js';
import { CachedBatches, computePrefixOutputs } from '../transfer/feature-cache.js';
import { saveModelFolder } from '../transfer/model-folder.js';
import { writeRunReport } from './run-report.js';
import type { EvaluationResult } from '../metrics/index.js';

export interface RunInput {
  model: ClassifierModel;
  train: ImageDataset;
  val: ImageDataset | null;
  options: TrainOptions;
  out: string;
  frozenStages: number;
  resume?: boolean;
  quiet?: boolean;
  title: string;
  provenance: Record<string, unknown>;
  /** Allow caching of a frozen prefix (on by default). */
  cacheFrozen?: boolean;
}

export interface RunSummary {
  fit: FitResult;
  evaluation: EvaluationResult | null;
  plan: ExecutionPlan;
  seconds: number;
  cached: boolean;
  epochSeconds: number[];
}

/** Resolves `--val`: 'none', a fraction of the training data (stratified), or a data spec. */
export async function splitValidation(
  train: ImageDataset,
  val: string | undefined,
  seed: number,
  load: (spec: string) => Promise<ImageDataset>,
): Promise<{ train: ImageDataset; val: ImageDataset | null }> {
  if (val === undefined || val === 'none' || val === '0') return { train, val: null };
  const frac = Number(val);
  if (Number.isFinite(frac)) {
    if (!(frac > 0 && frac < 1)) throw new TlcvError('ARGUMENT', `--val: expected a fraction in (0, 1), "none" or a data spec, got ${JSON.stringify(val)}`);
    const [rest, held] = fractionSplit(train, 1 - frac, seed, { stratified: true });
    if (held.n === 0 || rest.n === 0) {
      throw new TlcvError(
        'ARGUMENT',
        `--val ${val}: holding out that fraction of ${train.n} images (per class) leaves ${held.n === 0 ? 'no validation' : 'no training'} images; use --val none, another fraction, or a data spec`,
      );
    }
    return { train: rest, val: held };
  }
  return { train, val: await load(val) };
}

export async function loadForModel(spec: string, model: ClassifierModel, o: { onBadImage?: 'error' | 'skip'; log?: (m: string) => void } = {}): Promise<ImageDataset> {
  const [c, h, w] = model.config.inputSize;
  const ds = await loadDataset(spec, { channels: c, size: [h, w], ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}) });
  return conformDataset(ds, { channels: c, height: h, width: w });
}

function loaderFor(ds: ImageDataset, model: ClassifierModel, o: TrainOptions, train: boolean, augment?: Augmenter): DataLoader {
  return new DataLoader(ds, {
    batchSize: o.batchSize,
    shuffle: train,
    seed: o.seed,
    dropLast: train && o.dropLast,
    mean: model.config.mean,
    std: model.config.std,
    ...(augment && augment.enabled ? { augment } : {}),
    device: o.device,
  });
}

/** Times the candidate plans on the first training batch (or takes the cached choice). */
function tunedTrainingPlan(input: RunInput, log: (m: string) => void): ExecutionPlan {
  const o = input.options;
  const resumed = input.resume === true ? readCheckpointPlan(input.out) : null;
  if (resumed !== null) {
    // The interrupted run's plan, whatever the cache says now: the same plan gives the same metrics.
    const plan = { ...resumed, device: o.device };
    log(`resuming with the checkpoint's plan: ${describePlan(plan)}`);
    return plan;
  }
  return tunePlanOn(loaderFor(input.train, input.model, o, false), { model: input.model, stages: input.model.stages(), frozenStages: input.frozenStages, train: true, precision: o.precision, channelsLast: o.channelsLast, device: o.device, log });
}

export async function runTraining(input: RunInput): Promise<RunSummary> {
  const t0 = performance.now();
  const o = input.options;
  const { model } = input;
  const progress = createProgress(process.stderr, input.quiet ?? false);
  const augment = new Augmenter(parseAugment(o.augment), o.seed);
  if (o.dropLast && o.batchSize > input.train.n) {
    throw new TlcvError('ARGUMENT', `--batch-size ${o.batchSize} is larger than the training set (${input.train.n} images) and --drop-last would leave no batch`);
  }
  const plan = tunedTrainingPlan(input, (m) => progress.info(m));
  if (plan.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  progress.info(`${input.title}: ${input.train.n} training images${input.val ? `, ${input.val.n} validation` : ''}; ${describePlan(plan)}; ${o.optimizer} lr ${o.lr}, ${o.scheduler} schedule, ${o.epochs} epochs`);

  let train: BatchSource = loaderFor(input.train, model, o, true, augment);
  let val: BatchSource | null = input.val ? loaderFor(input.val, model, o, false) : null;
  let startStage = 0;
  let cached = false;
  const canCache = (input.cacheFrozen ?? true) && input.frozenStages > 0 && !augment.enabled;
  if (canCache) {
    const ct = performance.now();
    const feats = computePrefixOutputs(model, input.frozenStages, loaderFor(input.train, model, o, false), plan);
    train = new CachedBatches(feats, input.train.labels, { batchSize: o.batchSize, shuffle: true, seed: o.seed, dropLast: o.dropLast });
    if (input.val) {
      const vf = computePrefixOutputs(model, input.frozenStages, loaderFor(input.val, model, o, false), plan);
      val = new CachedBatches(vf, input.val.labels, { batchSize: o.batchSize, shuffle: false, seed: o.seed, dropLast: false });
    }
    startStage = input.frozenStages;
    cached = true;
    progress.info(`cached the frozen stages' outputs once (${((performance.now() - ct) / 1000).toFixed(1)}s); each epoch now trains only the unfrozen stages`);
  }
  const epochSeconds: number[] = [];
  let result: FitResult;
  try {
    result = await fitAsync({
      model,
      train,
      val,
      options: o,
      plan,
      startStage,
      frozenStages: input.frozenStages,
      outDir: input.out,
      resume: input.resume ?? false,
      progress,
      onEpoch: (_r: EpochRecord, timing) => epochSeconds.push(timing.seconds),
    });
  } finally {
    if (train instanceof CachedBatches) train.dispose();
    if (val instanceof CachedBatches) val.dispose();
  }
  const evalSet = input.val ?? input.train;
  const evaluation = evaluateModel(model, loaderFor(evalSet, model, o, false), { plan, classNames: evalSet.classes });
  saveModelFolder(input.out, model, { classes: input.train.classes, provenance: { ...input.provenance, options: o, cachedPrefix: cached } });
  await writeRunReport(join(input.out, 'report.html'), {
    title: input.title,
    model,
    plan,
    options: o,
    fit: result,
    evaluation,
    evalSet,
    epochSeconds,
    provenance: input.provenance,
  });
  return { fit: result, evaluation, plan, seconds: (performance.now() - t0) / 1000, cached, epochSeconds };
}

export { resolveTrainOptions };
