/**
 * The preprocessing record: everything that turns an image file into a model's input
 * (resize, crop, interpolation, channels, background for alpha, mean and std). Training
 * writes it into the model folder and every consumer (predict, evaluate, serve, export)
 * applies it through the same functions, so training and deployment cannot drift.
 *
 * Names follow timm's data config (`crop_pct`, `interpolation`, `input_size`), and
 * `resolveDataConfig` plays the part of timm's resolve_data_config: one place that decides
 * input size, crop and normalisation from the model, the data and the user's flags.
 */
import { TlcvError } from '../errors.js';
import { centerBox, sampleBox, shorterSideSize, type Box, type Range } from '../sampling/boxes.js';
import type { Rng } from '../sampling/rng.js';

export const INTERPOLATIONS = ['bilinear', 'bicubic', 'nearest', 'lanczos'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];
/** 'aspect': scale to cover the crop, keeping the aspect ratio; 'fill': stretch to it. */
export type ResizeMode = 'aspect' | 'fill';
export type Background = 'black' | 'white';

/** Images no larger than this on either side are digit-sized: resized whole, never cropped. */
export const SMALL_IMAGE_MAX = 64;
/** timm's default crop_pct: eval resizes to size / 0.875 (256 for 224), then centre-crops. */
export const DEFAULT_CROP_PCT = 0.875;
/** torchvision's RandomResizedCrop defaults. */
export const DEFAULT_CROP_SCALE: Range = [0.08, 1];
export const DEFAULT_CROP_RATIO: Range = [3 / 4, 4 / 3];

export interface TrainTransform {
  /** torchvision's RandomResizedCrop(size, scale, ratio), drawn on the stored form; null: the eval crop. */
  randomResizedCrop: { scale: Range; ratio: Range } | null;
  /** Horizontal flip with probability 0.5. */
  hflip: boolean;
}

export interface PreprocessConfig {
  /** [channels, height, width] of the model input; channels 1 (gray) or 3 (RGB). */
  inputSize: [number, number, number];
  resize: ResizeMode;
  /** timm's crop_pct: eval resizes to inputSize / cropPct, then centre-crops inputSize (1: the whole image). */
  cropPct: number;
  interpolation: Interpolation;
  /** What transparency is flattened over. */
  background: Background;
  /** Per-channel, in [0, 1] units. */
  mean: number[];
  std: number[];
  /** What training draws instead of the eval crop. */
  train: TrainTransform;
}

const NO_TRAIN_CROP: TrainTransform = { randomResizedCrop: null, hflip: false };

function bad(where: string, name: string, expected: string, found: unknown): TlcvError {
  return new TlcvError('DATA', `${where}: ${name} must be ${expected}, found ${JSON.stringify(found)?.slice(0, 80) ?? String(found)}`);
}

function checkRange(where: string, name: string, r: unknown, lo: number, hi: number): Range {
  const ok = Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number' && Number.isFinite(v)) && r[0] > lo && r[0] <= r[1] && r[1] <= hi;
  if (!ok) throw bad(where, name, `[low, high] with ${lo} < low <= high <= ${hi}`, r);
  return [r[0], r[1]] as Range;
}

/**
 * Checks every field of a preprocessing record and returns a clean copy; the error names the
 * field, what was expected and what was found.
 *
 * @example
 * checkPreprocess(cfg, 'runs/m/config.json');
 */
export function checkPreprocess(c: PreprocessConfig, where = 'preprocess'): PreprocessConfig {
  if (typeof c !== 'object' || c === null) throw bad(where, 'preprocess', 'an object', c);
  const size = c.inputSize;
  if (!Array.isArray(size) || size.length !== 3 || !size.every((v) => Number.isInteger(v) && v > 0) || (size[0] !== 1 && size[0] !== 3)) {
    throw bad(where, 'input_size', '[channels (1 or 3), height, width] of positive integers', size);
  }
  if (c.resize !== 'aspect' && c.resize !== 'fill') throw bad(where, 'resize', '"aspect" or "fill"', c.resize);
  if (!(typeof c.cropPct === 'number' && c.cropPct > 0 && c.cropPct <= 1)) throw bad(where, 'crop_pct', 'a number in (0, 1]', c.cropPct);
  if (!(INTERPOLATIONS as readonly string[]).includes(c.interpolation)) throw bad(where, 'interpolation', INTERPOLATIONS.join(', '), c.interpolation);
  if (c.background !== 'black' && c.background !== 'white') throw bad(where, 'background', '"black" or "white"', c.background);
  for (const [name, v, positive] of [['mean', c.mean, false], ['std', c.std, true]] as const) {
    const ok = Array.isArray(v) && (v.length === 1 || v.length === size[0]) && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
    if (!ok) throw bad(where, name, `1 or ${size[0]} ${positive ? 'positive ' : ''}numbers`, v);
  }
  const t = c.train;
  if (typeof t !== 'object' || t === null || typeof t.hflip !== 'boolean') throw bad(where, 'train', '{ random_resized_crop, hflip }', t);
  const rrc = t.randomResizedCrop === null ? null : { scale: checkRange(where, 'train.random_resized_crop.scale', t.randomResizedCrop?.scale, 0, 1), ratio: checkRange(where, 'train.random_resized_crop.ratio', t.randomResizedCrop?.ratio, 0, 100) };
  return { inputSize: [size[0], size[1], size[2]], resize: c.resize, cropPct: c.cropPct, interpolation: c.interpolation, background: c.background, mean: [...c.mean], std: [...c.std], train: { randomResizedCrop: rrc, hflip: t.hflip } };
}

/** The JSON form, with timm's key names; `parsePreprocess` reads it back. */
export interface PreprocessJson {
  input_size: number[];
  resize: string;
  crop_pct: number;
  crop_mode: 'center';
  interpolation: string;
  background: string;
  mean: number[];
  std: number[];
  train: { random_resized_crop: { scale: number[]; ratio: number[] } | null; hflip: boolean };
}

/**
 * @example
 * const json = JSON.stringify({ ...config, preprocess: serializePreprocess(cfg) });
 */
export function serializePreprocess(cfg: PreprocessConfig): PreprocessJson {
  const c = checkPreprocess(cfg);
  const rrc = c.train.randomResizedCrop;
  return {
    input_size: [...c.inputSize],
    resize: c.resize,
    crop_pct: c.cropPct,
    crop_mode: 'center',
    interpolation: c.interpolation,
    background: c.background,
    mean: c.mean,
    std: c.std,
    train: { random_resized_crop: rrc === null ? null : { scale: [...rrc.scale], ratio: [...rrc.ratio] }, hflip: c.train.hflip },
  };
}

/**
 * Reads a record written by serializePreprocess (e.g. from a model folder's config.json);
 * `where` names the file in errors.
 *
 * @example
 * const cfg = parsePreprocess(JSON.parse(text).preprocess, 'runs/m/config.json');
 */
export function parsePreprocess(json: unknown, where = 'preprocess'): PreprocessConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(where, 'preprocess', 'an object', json);
  const j = json as Partial<PreprocessJson>;
  if (j.crop_mode !== undefined && j.crop_mode !== 'center') throw bad(where, 'crop_mode', '"center"', j.crop_mode);
  const t = j.train as PreprocessJson['train'] | undefined;
  const rrc = t?.random_resized_crop;
  return checkPreprocess(
    {
      inputSize: j.input_size as [number, number, number],
      resize: j.resize as ResizeMode,
      cropPct: j.crop_pct as number,
      interpolation: j.interpolation as Interpolation,
      background: (j.background ?? 'black') as Background,
      mean: j.mean as number[],
      std: j.std as number[],
      train: t === undefined ? NO_TRAIN_CROP : { randomResizedCrop: rrc === null || rrc === undefined ? null : { scale: rrc.scale as Range, ratio: rrc.ratio as Range }, hflip: t.hflip },
    },
    where,
  );
}

/**
 * The record of a model folder written before preprocessing was recorded: the whole image
 * stretched to the input size with lanczos3, as tlcv's decoder did then (sharp's default
 * kernel, for in-memory folders and for predict); digit-sized images still go through
 * libtorch's resize, as their folders did.
 *
 * @example
 * const cfg = legacyPreprocess({ inputSize: [1, 28, 28], mean: [0.5], std: [0.5] });
 */
export function legacyPreprocess(c: { inputSize: [number, number, number]; mean: number[]; std: number[] }): PreprocessConfig {
  return checkPreprocess({ inputSize: c.inputSize, resize: 'fill', cropPct: 1, interpolation: 'lanczos', background: 'black', mean: c.mean, std: c.std, train: NO_TRAIN_CROP });
}

/** What resolveDataConfig needs of a model config (a zoo ModelConfig is one). */
export interface ModelDataDefaults {
  inputSize: [number, number, number];
  minInputSize?: [number, number, number];
  /** The size for photos when it differs from inputSize's (seed-cnn: 64 px, not its digits' 28). */
  photoInputSize?: [number, number];
  mean: number[];
  std: number[];
  /** The weights' own crop_pct and resize kernel, when they differ from timm's defaults. */
  cropPct?: number;
  interpolation?: Interpolation;
}

export interface DataConfigInput {
  model: ModelDataDefaults;
  /** The data's channels and (most common) image size; see `describeData`. */
  data?: { channels: number; height: number; width: number } | null;
  /** `--input-size`. */
  inputSize?: [number, number];
  channels?: number;
  cropPct?: number;
  interpolation?: Interpolation;
  resize?: ResizeMode;
  background?: Background;
  /** Random resized crop and flip for training photos (default true). */
  trainCrop?: boolean;
}

function adaptStats(v: number[], channels: number): number[] {
  if (v.length === channels || v.length === 1) return [...v];
  const avg = v.reduce((a, b) => a + b, 0) / v.length;
  return new Array<number>(channels).fill(avg);
}

/**
 * Decides the whole preprocessing from the model's defaults, the data and the user's
 * choices, as timm's resolve_data_config does:
 * - input size: the user's; else the data's own size for digit-sized images (at least the
 *   model's minimum); else the model's default for photos (224 for the ResNets and MobileNets,
 *   64 for seed-cnn), never a photo's raw size;
 * - digit-sized data (at most 64 px a side) is resized whole, with no crop;
 * - larger images keep their aspect ratio (unless resize 'fill'): eval resizes to
 *   size / cropPct and centre-crops, training draws RandomResizedCrop + flip;
 * - crop_pct and the resize kernel: the user's, else the model's (its weights' transforms), else
 *   timm's 0.875 and bilinear.
 *
 * @example
 * const cfg = resolveDataConfig({ model: getModelConfig('resnet18'), data: describeData(photos) });
 * cfg.inputSize; // [3, 224, 224]; cfg.cropPct 0.875
 */
export function resolveDataConfig(o: DataConfigInput): PreprocessConfig {
  const m = o.model;
  const data = o.data ?? null;
  const small = data !== null && Math.max(data.height, data.width) <= SMALL_IMAGE_MAX;
  const channels = o.channels ?? data?.channels ?? m.inputSize[0];
  const [, minH, minW] = m.minInputSize ?? [channels, 1, 1];
  const [h, w] = o.inputSize ?? (small ? [Math.max(data.height, minH), Math.max(data.width, minW)] : (m.photoInputSize ?? [m.inputSize[1], m.inputSize[2]]));
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= minH && w >= minW)) {
    throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for this model, got ${h}x${w}`);
  }
  const base = { inputSize: [channels, h, w] as [number, number, number], interpolation: o.interpolation ?? m.interpolation ?? 'bilinear', background: o.background ?? 'black', mean: adaptStats(m.mean, channels), std: adaptStats(m.std, channels) };
  if (small) return checkPreprocess({ ...base, resize: 'fill', cropPct: 1, train: NO_TRAIN_CROP });
  const crop = o.trainCrop ?? true;
  return checkPreprocess({
    ...base,
    resize: o.resize ?? 'aspect',
    cropPct: o.cropPct ?? m.cropPct ?? DEFAULT_CROP_PCT,
    train: crop ? { randomResizedCrop: { scale: [...DEFAULT_CROP_SCALE], ratio: [...DEFAULT_CROP_RATIO] }, hflip: true } : NO_TRAIN_CROP,
  });
}

/**
 * [height, width] of an image's stored form: the size eval resizes it to before the centre
 * crop (timm: floor(size / crop_pct); for a square input, torchvision's Resize(int): shorter
 * side to that, aspect kept). Random crops are drawn on it too, so a cache of stored forms
 * serves training and evaluation alike.
 *
 * @example
 * storedSize(3024, 4032, resolveDataConfig({ model: getModelConfig('resnet18') })); // [256, 341]
 */
export function storedSize(height: number, width: number, cfg: Pick<PreprocessConfig, 'inputSize' | 'cropPct' | 'resize'>): [number, number] {
  const [, h, w] = cfg.inputSize;
  const th = Math.floor(h / cfg.cropPct);
  const tw = Math.floor(w / cfg.cropPct);
  if (cfg.resize === 'fill') return [th, tw];
  if (th === tw) return shorterSideSize(height, width, th);
  // A non-square input: the smallest aspect-kept size that covers it.
  const s = Math.max(th / height, tw / width);
  return [Math.max(th, Math.floor(height * s)), Math.max(tw, Math.floor(width * s))];
}

/**
 * The region of a stored form that becomes the model input, and whether it is mirrored:
 * the centre crop for evaluation; for training, a RandomResizedCrop box and a coin for the
 * flip from rng (with no random crop configured, training takes the eval crop).
 *
 * @example
 * const { box, flip } = inputRegion(256, 341, cfg, null); // [16, 58, 224, 224], false
 */
export function inputRegion(storedH: number, storedW: number, cfg: PreprocessConfig, rng: Rng | null): { box: Box; flip: boolean } {
  const [, h, w] = cfg.inputSize;
  const rrc = cfg.train.randomResizedCrop;
  if (rng === null) return { box: centerBox(storedH, storedW, h, w), flip: false };
  const box = rrc === null ? centerBox(storedH, storedW, h, w) : sampleBox(rng, storedH, storedW, rrc.scale, rrc.ratio, false)!;
  return { box, flip: cfg.train.hflip && rng.chance(0.5) };
}

export type CacheImages = 'auto' | 'on' | 'off';
/** The default budget of `cacheImages: 'auto'` (the README states it). */
export const DEFAULT_CACHE_BUDGET = 1024 * 2 ** 20;

/**
 * How many bytes of stored forms to keep in memory: 'off' none, 'on' all, 'auto' up to the
 * budget (images past it are decoded again each epoch). `fits` says whether all would fit.
 *
 * @example
 * planImageCache('auto', { images: 4000, bytesPerImage: 256 * 341 * 3 }); // { limitBytes: 1 GiB, fits: false, ... }
 */
export function planImageCache(mode: CacheImages, o: { images: number; bytesPerImage: number; budgetBytes?: number }): { limitBytes: number; estimateBytes: number; fits: boolean } {
  if (!['auto', 'on', 'off'].includes(mode)) throw new TlcvError('ARGUMENT', `--cache-images: expected auto, on or off, got ${JSON.stringify(mode)}`);
  const estimateBytes = o.images * o.bytesPerImage;
  const limitBytes = mode === 'off' ? 0 : mode === 'on' ? Infinity : (o.budgetBytes ?? DEFAULT_CACHE_BUDGET);
  return { limitBytes, estimateBytes, fits: estimateBytes <= limitBytes };
}
