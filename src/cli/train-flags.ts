/** The training flags shared by `pretrain` and `transfer`, with the same names everywhere. */
import { DEFAULT_CROP_PCT, INTERPOLATIONS } from '../data/index.js';
import { OPTIMIZERS, SCHEDULERS, TRAIN_DEFAULTS, resolveTrainOptions, type TrainOptions } from '../train/options.js';
import { AUTO_BATCH_CAP, MAX_AUTO_EPOCHS, MIN_AUTO_STEPS } from '../train/auto-size.js';
import { TlcvError } from '../errors.js';
import type { DataChoices } from '../runs/index.js';
import type { FlagSpecs, FlagValues } from './args.js';
import { parseInputSize } from './input-size.js';

export const TRAIN_FLAGS = {
  data: { kind: 'string', help: 'training data spec (fashion-mnist:train, mnist:train, folder:DIR, idx:IMAGES,LABELS, cifar10:DIR:train)', placeholder: 'SPEC', required: true },
  val: { kind: 'string', help: 'validation: a fraction held out of --data, "none", or a data spec', default: '0.1', placeholder: 'FRAC|none|SPEC' },
  out: { kind: 'string', help: 'output model folder', placeholder: 'DIR', required: true },
  overwrite: { kind: 'bool', help: 'replace the model or run already in --out' },
  resume: { kind: 'bool', help: 'continue from the checkpoint in --out' },
  'keep-checkpoint': { kind: 'bool', help: "keep checkpoint.safetensors (the last epoch's model, optimizer and run state) when the run finishes; by default a finished folder keeps the model, not its training state" },
  'checkpoint-every': { kind: 'number', help: 'seconds between checkpoints (0: every epoch); one is also written at the end and on SIGINT/SIGTERM', min: 0, default: 60, placeholder: 'S' },
  epochs: { kind: 'int', help: `epochs (default: ${TRAIN_DEFAULTS.epochs}, or enough for at least ${MIN_AUTO_STEPS} optimiser steps on small data, at most ${MAX_AUTO_EPOCHS})`, min: 1, placeholder: 'N' },
  'batch-size': {
    kind: 'int',
    help: `mini-batch size (default: automatic: at most ${AUTO_BATCH_CAP}, at most an eighth of the training images (a power of two), and within --max-memory, from a training step measured on this machine at small batches)`,
    min: 1,
    placeholder: 'B',
  },
  'max-memory': { kind: 'string', help: "the process's peak memory when the batch is automatic, e.g. 2.5G or 800M (default 2.5G, at most half the RAM)", placeholder: 'SIZE' },
  lr: { kind: 'number', help: 'learning rate (peak LR for onecycle)', min: 0, exclusiveMin: true, placeholder: 'X' },
  optimizer: { kind: 'string', help: 'optimizer', choices: OPTIMIZERS, default: TRAIN_DEFAULTS.optimizer },
  momentum: { kind: 'number', help: 'SGD momentum', min: 0, max: 0.999999, default: TRAIN_DEFAULTS.momentum },
  'weight-decay': { kind: 'number', help: 'weight decay', min: 0, default: TRAIN_DEFAULTS.weightDecay },
  scheduler: { kind: 'string', help: 'LR schedule', choices: SCHEDULERS, default: TRAIN_DEFAULTS.scheduler },
  'step-size': { kind: 'int', help: 'StepLR: epochs between LR decays', min: 1, default: TRAIN_DEFAULTS.stepSize },
  gamma: { kind: 'number', help: 'StepLR/exponential decay factor', min: 0, exclusiveMin: true, max: 1, default: TRAIN_DEFAULTS.gamma },
  'warmup-epochs': { kind: 'int', help: 'linear warm-up epochs for the cosine schedule', min: 0, default: TRAIN_DEFAULTS.warmupEpochs },
  'label-smoothing': { kind: 'number', help: 'cross-entropy label smoothing', min: 0, max: 0.99, default: TRAIN_DEFAULTS.labelSmoothing },
  augment: { kind: 'string', help: 'augmentation: none, spec, light, standard, or key=value,... (rotation=10,shift=0.1,...)', placeholder: 'PRESET' },
  seed: { kind: 'int', help: 'random seed (same seed, data and flags give the same metrics)', min: 0, default: 0 },
  precision: { kind: 'string', help: 'numeric precision: auto picks bf16 autocast on CPUs with native bf16', choices: ['auto', 'fp32', 'bf16'], default: 'auto' },
  'channels-last': { kind: 'string', help: 'channels-last memory format', choices: ['auto', 'on', 'off'], default: 'auto' },
  'drop-last': { kind: 'bool', help: 'drop the last incomplete batch' },
  ema: { kind: 'bool', help: "keep an exponential moving average of the weights (timm's ModelEmaV2, decay 0.999 warmed up as (1+t)/(10+t)) and end with it" },
  patience: { kind: 'int', help: 'early stopping: epochs without a better validation accuracy (0 = off); the best model is kept', min: 0, default: 0 },
  device: { kind: 'string', help: 'cpu, cuda or cuda:N', default: 'cpu' },
  'on-bad-image': { kind: 'string', help: 'what to do with unreadable images in folders', choices: ['error', 'skip'], default: 'error' },
  threads: { kind: 'int', help: 'CPU threads (default: every core)', min: 1, placeholder: 'N' },
  quiet: { kind: 'bool', help: 'no progress output' },
  // How images become model inputs (timm's data config); recorded in the model folder for predict, evaluate, serve, export.
  'input-size': { kind: 'string', help: "model input HxW (default: the data's own size for digit-sized images, else the model's: 224 for resnet/mobilenet, 64 for seed-cnn)", placeholder: 'HxW' },
  // No flag defaults here: unset, a transfer from a model folder keeps the source's record and otherwise resolveDataConfig decides.
  resize: { kind: 'string', help: "photos: keep the aspect ratio and crop (aspect, the default) or stretch to the input (fill); transfer from a model folder keeps the source's", choices: ['aspect', 'fill'] },
  'crop-pct': { kind: 'number', help: `photos: evaluation resizes to input / crop-pct, then crops the centre (timm's crop_pct, default ${DEFAULT_CROP_PCT}; transfer from a model folder keeps the source's)`, min: 0, exclusiveMin: true, max: 1, placeholder: 'F' },
  interpolation: { kind: 'string', help: "resampling kernel of the resize (default bilinear; transfer from a model folder keeps the source's)", choices: INTERPOLATIONS },
  'train-crop': { kind: 'string', help: "photos: training draws RandomResizedCrop + flip (random, the default) or takes evaluation's centre crop (center; lets feature extraction cache the frozen layers)", choices: ['random', 'center'] },
  unknown: { kind: 'string', help: 'auto: once trained, fit temperature scaling and the unknown threshold on the validation split and keep them in --out (predict and serve then answer unknown below it); off: neither', choices: ['off', 'auto'], default: 'off' },
  'unknown-rate': { kind: 'number', help: 'with --unknown auto: the fraction of known (validation) images the threshold may answer unknown', min: 0, max: 0.5, default: 0.05, placeholder: 'F' },
  'cache-images': { kind: 'string', help: 'photos: keep decoded images in memory (auto: up to 1 GiB)', choices: ['auto', 'on', 'off'], default: 'auto' },
} as const satisfies FlagSpecs;

export type TrainFlags = FlagValues<typeof TRAIN_FLAGS>;

/** The flags trainOptionsFrom reads (a command without early stopping leaves out `patience`). */
export type OptionFlags = Pick<
  TrainFlags,
  'epochs' | 'lr' | 'augment' | 'batch-size' | 'optimizer' | 'momentum' | 'weight-decay' | 'scheduler' | 'step-size' | 'gamma' | 'warmup-epochs' | 'label-smoothing' | 'seed' | 'precision' | 'channels-last' | 'drop-last' | 'device'
> & { patience?: number };

/**
 * The training options the flags ask for, over `defaults` (a command's own, such as no
 * augmentation), checked at once; batch size and epochs stay unset where neither the flags nor
 * the defaults give them (the run chooses them from the data: src/runs/run-sizes.ts).
 *
 * @example
 * const options = trainOptionsFrom(flags, { augment: 'none' });
 */
export function trainOptionsFrom(f: OptionFlags, defaults: Partial<TrainOptions> = {}): Partial<TrainOptions> {
  const cl = f['channels-last'];
  const batchSize = f['batch-size'] ?? defaults.batchSize;
  const epochs = f.epochs ?? defaults.epochs;
  const o = resolveTrainOptions({
    ...defaults,
    ...(epochs !== undefined ? { epochs } : {}),
    ...(f.lr !== undefined ? { lr: f.lr } : {}),
    ...(f.augment !== undefined ? { augment: f.augment } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    optimizer: f.optimizer,
    momentum: f.momentum,
    weightDecay: f['weight-decay'],
    scheduler: f.scheduler,
    stepSize: f['step-size'],
    gamma: f.gamma,
    warmupEpochs: f['warmup-epochs'],
    labelSmoothing: f['label-smoothing'],
    seed: f.seed,
    precision: f.precision,
    channelsLast: cl === 'auto' ? 'auto' : cl === 'on',
    dropLast: f['drop-last'],
    patience: f.patience ?? 0,
    device: f.device,
  });
  const { batchSize: b, epochs: e, ...rest } = o;
  return { ...rest, ...(batchSize === undefined ? {} : { batchSize: b }), ...(epochs === undefined ? {} : { epochs: e }) };
}

const MEMORY_UNITS: Record<string, number> = { '': 2 ** 30, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * `--max-memory`: a size with an optional unit (K, M, G, T; with or without B or iB; a bare
 * number is GiB), in bytes; undefined when the flag is absent.
 *
 * @example
 * parseMemorySize('2.5G'); // 2684354560
 */
export function parseMemorySize(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(raw);
  const bytes = m ? Number(m[1]) * MEMORY_UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!(bytes >= 2 ** 20)) throw new TlcvError('ARGUMENT', `--max-memory: expected a size of at least 1M such as 2.5G or 800M, got ${JSON.stringify(raw)}`);
  return Math.round(bytes);
}

/**
 * What `--unknown` asks of a run: nothing, or calibration on its validation split.
 *
 * @example
 * await m.fit(f.data, { ...unknownFrom(f), out: { dir: f.out } });
 */
export function unknownFrom(f: Pick<TrainFlags, 'unknown' | 'unknown-rate'>): { unknown?: { targetRejection: number } } {
  return f.unknown === 'auto' ? { unknown: { targetRejection: f['unknown-rate'] } } : {};
}

/**
 * The preprocessing and data-reading part of the flags, for prepareScratch and prepareTransfer.
 *
 * @example
 * const { model, train, val, preprocess } = await prepareScratch({ data: f.data, model: f.model, seed: 0, ...dataChoicesFrom(f, log) });
 */
export function dataChoicesFrom(f: TrainFlags, log: (m: string) => void): DataChoices {
  return {
    inputSize: f['input-size'] === undefined ? null : parseInputSize(f['input-size'], [0, 0]),
    ...(f.resize === undefined ? {} : { resize: f.resize }),
    ...(f['crop-pct'] === undefined ? {} : { cropPct: f['crop-pct'] }),
    ...(f.interpolation === undefined ? {} : { interpolation: f.interpolation }),
    ...(f['train-crop'] === undefined ? {} : { trainCrop: f['train-crop'] === 'random' }),
    cacheImages: f['cache-images'],
    onBadImage: f['on-bad-image'],
    log,
  };
}
