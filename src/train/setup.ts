/**
 * The set-up of a fit: the numeric plan (timed on the first training batch unless fixed or
 * resumed), the loaders a dataset gets (shuffling, augmentation, the model's normalisation;
 * a streaming photo folder gets its record's random crops for training and the centre crop
 * otherwise), and the frozen prefix's outputs computed once when nothing changes them. A
 * data-parallel fit takes rank 0's plan and this rank's share of each (src/train/shard.ts).
 */
import { TlcvError } from '../errors.js';
import { DataLoader, configureFiles, isFileDataset, type BatchAugmenter, type Dataset, type IndexSampler } from '../data/index.js';
import { Augmenter, parseAugment } from '../transforms/index.js';
import type { ClassifierModel } from '../models/index.js';
import { layOutForPlan, tunePlanOn, type ExecutionPlan } from '../execution/index.js';
import { releaseCpuMemoryCache, type Tensor } from '../tensor/index.js';
import { isBatchSource, type BatchSource, type DataInput } from './batches.js';
import { CachedBatches, cachedBatchOrder, computePrefixOutputs } from './feature-cache.js';
import type { TrainOptions } from './options.js';
import type { Collective } from './callback.js';
import { agreePlan, agreeSteps } from './collective.js';
import { perRankBatch, rankAugmenter, shardedPrefixOutputs, trainSampler, validationShard } from './shard.js';

/** What set-up reads from and writes to the Learner. */
interface SetupTarget {
  readonly model: ClassifierModel;
  readonly options: TrainOptions;
  readonly frozenStages: number;
  plan: ExecutionPlan | null;
  readonly collective: Collective | null;
  log(line: string): void;
}

export interface PreparedSources {
  train: BatchSource;
  val: BatchSource | null;
  /** Batches enter the model at this stage. */
  startStage: number;
  cacheSeconds: number;
  /** Each rank validates its own part of the validation data: the metrics are summed over the ranks. */
  valSharded: boolean;
  /** "N training images, M validation" (or batches, for a batch source). */
  describe: string;
  dispose(): void;
}

/**
 * A DataLoader over `ds` for `model` as the options ask (shuffled and augmented for training).
 * A streaming dataset is read in the mode the loader is for: its record's random crops and
 * flips for training, the centre crop for anything else.
 *
 * @example
 * const loader = loaderFor(train, model, resolveTrainOptions({}), { train: true });
 */
export function loaderFor(ds: Dataset, model: ClassifierModel, o: TrainOptions, how: { train: boolean; augment?: BatchAugmenter; batchSize?: number; sampler?: IndexSampler }): DataLoader {
  const data = isFileDataset(ds) && ds.train !== how.train ? configureFiles(ds, ds.preprocess, { train: how.train }) : ds;
  return new DataLoader(data, {
    batchSize: how.batchSize ?? o.batchSize,
    shuffle: how.train && how.sampler === undefined,
    ...(how.sampler === undefined ? {} : { sampler: how.sampler }),
    seed: o.seed,
    dropLast: how.train && o.dropLast,
    mean: model.config.mean,
    std: model.config.std,
    ...(how.augment && how.augment.enabled ? { augment: how.augment } : {}),
    device: o.device,
  });
}

function count(d: DataInput, what: string): string {
  return isBatchSource(d) ? `${d.length} ${what} batches` : `${d.n} ${what} images`;
}

/**
 * The training plan timed on the first batch of the training data (in order, unaugmented).
 * The memory cache then lets go of what the timing freed: blocks of the plans not chosen (bf16
 * activations are half the size of fp32's) would otherwise stay cached beside the run's own,
 * and count against --max-memory (mobilenet_v2 at 224 px, batch 4: 655 MiB cached at the end).
 */
export async function choosePlanFor(t: SetupTarget, trainData: DataInput): Promise<ExecutionPlan> {
  const opts = t.options;
  const source = isBatchSource(trainData) ? trainData : loaderFor(trainData, t.model, opts, { train: false });
  const plan = await tunePlanOn(source, {
    model: t.model,
    stages: t.model.stages(),
    frozenStages: t.frozenStages,
    train: true,
    precision: opts.precision,
    channelsLast: opts.channelsLast,
    device: opts.device,
    log: (m) => t.log(m),
  });
  releaseCpuMemoryCache();
  return plan;
}

export async function prepareSources(t: SetupTarget, trainData: DataInput, valData: DataInput | null, o: { cacheFrozen: boolean }): Promise<PreparedSources> {
  const opts = t.options;
  const model = t.model;
  const ds = isBatchSource(trainData) ? null : trainData;
  if (ds !== null && opts.dropLast && opts.batchSize > ds.n) {
    throw new TlcvError('ARGUMENT', `--batch-size ${opts.batchSize} is larger than the training set (${ds.n} images) and --drop-last would leave no batch`);
  }
  const augment = ds === null ? null : new Augmenter(parseAugment(opts.augment), opts.seed);
  const c = t.collective;
  const batchSize = c === null ? opts.batchSize : perRankBatch(c, opts.batchSize);
  if (c === null) t.plan ??= await choosePlanFor(t, trainData);
  else t.plan = await agreePlan(c, t.plan, opts.device, () => choosePlanFor(t, trainData));
  const plan = t.plan;
  // Cheap when the weights already are channels-last: to() then returns aliases.
  layOutForPlan(model, plan);
  const describe = `${count(trainData, 'training')}${valData === null ? '' : `, ${count(valData, 'validation')}`}`;
  const wholeVal = valData === null || isBatchSource(valData) ? null : valData;
  const valShard = wholeVal === null || c === null ? null : validationShard(c, wholeVal);
  const valSet = valShard ?? wholeVal;
  const valSharded = valShard !== null;
  const randomCrops = ds !== null && isFileDataset(ds) && (ds.preprocess.train.randomResizedCrop !== null || ds.preprocess.train.hflip);
  const canCache = o.cacheFrozen && ds !== null && t.frozenStages > 0 && !augment!.enabled && !randomCrops && (valData === null || valSet !== null);
  if (o.cacheFrozen && t.frozenStages > 0 && randomCrops && !augment!.enabled) {
    t.log("the frozen layers' outputs are not cached: each epoch draws new random crops of the training photos (a record without them, e.g. --train-crop center, caches them)");
  }
  if (!canCache) {
    const sampler = ds === null || c === null ? undefined : trainSampler(c, ds.n, opts.seed);
    const rankAugment = c === null || augment === null ? augment : rankAugmenter(augment, c.rank);
    const train = ds === null ? (trainData as BatchSource) : loaderFor(ds, model, opts, { train: true, augment: rankAugment!, batchSize, ...(sampler ? { sampler } : {}) });
    const val = valData === null ? null : valSet === null ? (valData as BatchSource) : loaderFor(valSet, model, opts, { train: false });
    if (c !== null) await agreeSteps(c, train.length);
    return { train, val, startStage: 0, cacheSeconds: 0, valSharded, describe, dispose: () => undefined };
  }
  const ct = performance.now();
  // A streaming folder may skip an image it cannot decode: the labels follow the rows computed.
  const prefix = async (d: Dataset): Promise<{ feats: Tensor; labels: Int32Array }> => {
    const positions: number[] = [];
    const feats = await computePrefixOutputs(model, t.frozenStages, loaderFor(d, model, opts, { train: false }), plan, positions);
    return { feats, labels: Int32Array.from(positions, (p) => d.labels[p]!) };
  };
  const cacheTrain = async (d: Dataset): Promise<CachedBatches> => {
    const how = { batchSize, shuffle: true, seed: opts.seed, dropLast: opts.dropLast };
    if (c === null) {
      const { feats, labels } = await prefix(d);
      return new CachedBatches(feats, labels, how);
    }
    const feats = await shardedPrefixOutputs(c, model, t.frozenStages, d, plan, batchSize, (part) => loaderFor(part, model, opts, { train: false }));
    return new CachedBatches(feats, d.labels, { ...how, sampler: trainSampler(c, d.n, opts.seed, (e) => cachedBatchOrder(opts.seed, e, d.n)) });
  };
  const train = await cacheTrain(ds);
  let val: CachedBatches | null = null;
  try {
    // Validation data is this rank's own part: its outputs are computed here alone.
    const v = valSet === null ? null : await prefix(valSet);
    val = v === null ? null : new CachedBatches(v.feats, v.labels, { batchSize: opts.batchSize, shuffle: false, seed: opts.seed, dropLast: false });
  } catch (e) {
    train.dispose();
    throw e;
  }
  const cacheSeconds = (performance.now() - ct) / 1000;
  return {
    train,
    val,
    startStage: t.frozenStages,
    cacheSeconds,
    valSharded,
    describe,
    dispose: () => {
      train.dispose();
      val?.dispose();
    },
  };
}
