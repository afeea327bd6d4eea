/**
 * Getting a model and its data ready for a run: the preprocessing decided once (the input size
 * and crop from the model, the data and the user's choices, as timm's resolve_data_config),
 * the data loaded with it (photo folders streaming from disk, the rest in memory), a
 * validation split, and a model built (or adapted) with seeded new weights.
 */
import { TlcvError } from '../errors.js';
import { manualSeed } from '../tensor/index.js';
import {
  applyPreprocess,
  conformDataset,
  decodeDataset,
  describeData,
  fractionSplit,
  stratifiedFold,
  isFileDataset,
  loadDataset,
  resolveDataConfig,
  type CacheImages,
  type Dataset,
  type ImageDataset,
  type DataSummary,
  type Interpolation,
  type ModelDataDefaults,
  type PreprocessConfig,
  type ResizeMode,
} from '../data/index.js';
import { createModel, resolveConfig, type ClassifierModel } from '../models/index.js';

type LoadHow = { onBadImage?: 'error' | 'skip'; log?: (m: string) => void };

/** The user's preprocessing choices (the CLI's --input-size, --resize, --crop-pct, ...); unset ones take resolveDataConfig's defaults. */
export interface DataChoices extends LoadHow {
  inputSize?: [number, number] | null;
  resize?: ResizeMode;
  cropPct?: number;
  interpolation?: Interpolation;
  /** Random resized crops and flips when training on photos (default true); false trains on the centre crop. */
  trainCrop?: boolean;
  /** Keep decoded photos in memory: 'auto' (default) up to the budget, 'on', 'off'. */
  cacheImages?: CacheImages;
}

/**
 * Resolves `--val`: 'none', a fraction of the training data (stratified), fold I of K
 * (`fold:I/K`, stratified k-fold, what fit uses on small data), or a data spec.
 *
 * @example
 * const { train, val } = await splitValidation(data, '0.1', 0, (spec) => loadDataset(spec));
 */
export async function splitValidation<D extends Dataset>(train: D, val: string | undefined, seed: number, load: (spec: string) => Promise<D>): Promise<{ train: D; val: D | null }> {
  if (val === undefined || val === 'none' || val === '0') return { train, val: null };
  const fold = /^fold:(\d+)\/(\d+)$/.exec(val);
  if (fold !== null) {
    const [rest, held] = stratifiedFold(train, Number(fold[2]), Number(fold[1]), seed);
    if (held.n === 0 || rest.n === 0) throw new TlcvError('ARGUMENT', `--val ${val}: ${train.n} images leave ${held.n === 0 ? 'no validation' : 'no training'} images in that fold`);
    return { train: rest, val: held };
  }
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

/**
 * Decides a run's preprocessing for data described by `data`: resolveDataConfig, with data
 * that sits in memory at another size (IDX, CIFAR) resized whole, as it is then.
 *
 * @example
 * const cfg = runPreprocess(getModelConfig('resnet18'), describeData(photos), true, {}); // 224 px, crop_pct 0.875
 */
export function runPreprocess(model: ModelDataDefaults, data: DataSummary, streams: boolean, c: DataChoices & { channels?: number }): PreprocessConfig {
  const cfg = resolveDataConfig({
    model,
    data,
    ...(c.inputSize ? { inputSize: c.inputSize } : {}),
    ...(c.channels === undefined ? {} : { channels: c.channels }),
    ...(c.resize === undefined ? {} : { resize: c.resize }),
    ...(c.cropPct === undefined ? {} : { cropPct: c.cropPct }),
    ...(c.interpolation === undefined ? {} : { interpolation: c.interpolation }),
    ...(c.trainCrop === undefined ? {} : { trainCrop: c.trainCrop }),
  });
  return streams ? cfg : { ...cfg, resize: 'fill', cropPct: 1, train: { randomResizedCrop: null, hflip: false } };
}

/**
 * A data spec loaded with a preprocessing record, for evaluation (centre crops, photo folders
 * streaming); a model without a record (its input neither gray nor RGB) takes the data resized
 * whole to its input size.
 *
 * @example
 * const m = await load('runs/photos');
 * const test = await loadForModel('folder:photos:test', m.module, { preprocess: m.preprocess! });
 */
export async function loadForModel(spec: string, model: ClassifierModel, o?: LoadHow): Promise<ImageDataset>;
export async function loadForModel(spec: string, model: ClassifierModel, o: LoadHow & { preprocess: PreprocessConfig; cacheImages?: CacheImages }): Promise<Dataset>;
export async function loadForModel(spec: string, model: ClassifierModel, o: LoadHow & { preprocess?: PreprocessConfig; cacheImages?: CacheImages }): Promise<Dataset>;
export async function loadForModel(spec: string, model: ClassifierModel, o: LoadHow & { preprocess?: PreprocessConfig; cacheImages?: CacheImages } = {}): Promise<Dataset> {
  const how = { ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}) };
  if (o.preprocess !== undefined) return loadDataset(spec, { stream: true, preprocess: o.preprocess, train: false, cacheImages: o.cacheImages ?? 'off', ...how });
  const [c, h, w] = model.config.inputSize;
  const ds = await loadDataset(spec, { channels: c, size: [h, w], ...how });
  return conformDataset(ds, { channels: c, height: h, width: w });
}

/**
 * The record a run on an existing model goes on with: the source model folder's own (what its
 * features were learnt with), or for weights that carry none (a zoo name, a weights file), the
 * one resolveDataConfig decides for `spec`'s data at the model's input size, as transfer does.
 * Null for a model whose input no image makes.
 *
 * @example
 * const preprocess = await recordForModel(model, source.preprocess, 'folder:unlabelled');
 */
export async function recordForModel(model: ClassifierModel, own: PreprocessConfig | null, spec: string, o: LoadHow = {}): Promise<PreprocessConfig | null> {
  const [c, h, w] = model.config.inputSize;
  if (c !== 1 && c !== 3) return null;
  if (own !== null) return own;
  const how = { ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}) };
  const raw = await loadDataset(spec, { stream: true, cacheImages: 'off', ...how });
  return runPreprocess(model.config, describeData(raw), isFileDataset(raw), { inputSize: [h, w], channels: c });
}

/**
 * A data spec decoded into memory with a model's record (centre crops, as evaluation takes
 * them), for the methods that need every image at hand (adaptation); without a record (an
 * input no image makes), the data resized whole to the model's input.
 *
 * @example
 * const target = await loadInMemoryForModel('folder:unlabelled', model, { preprocess });
 */
export async function loadInMemoryForModel(spec: string, model: ClassifierModel, o: LoadHow & { preprocess: PreprocessConfig | null }): Promise<ImageDataset> {
  const { preprocess, ...how } = o;
  return preprocess === null ? loadForModel(spec, model, how) : decodeDataset(await loadForModel(spec, model, { ...how, preprocess }));
}

/** Only the preprocessing choices that are set (an unset one must not hide a carried one). */
function definedChoices(c: DataChoices): DataChoices {
  const out: DataChoices = {};
  if (c.resize !== undefined) out.resize = c.resize;
  if (c.cropPct !== undefined) out.cropPct = c.cropPct;
  if (c.interpolation !== undefined) out.interpolation = c.interpolation;
  if (c.trainCrop !== undefined) out.trainCrop = c.trainCrop;
  return out;
}

/**
 * What a source model folder's record says about photos, as defaults for a run that goes on
 * from it (timm takes crop_pct and interpolation from the model's pretrained config the same
 * way). A whole-image record without crops (digit-sized data, or a folder written before
 * records) says nothing about photos, and leaves resolveDataConfig's defaults.
 */
function carriedChoices(own: PreprocessConfig | null): DataChoices {
  if (own === null) return {};
  const photo = own.resize === 'aspect' || own.cropPct < 1 || own.train.randomResizedCrop !== null;
  if (!photo) return {};
  return { resize: own.resize, cropPct: own.cropPct, interpolation: own.interpolation, trainCrop: own.train.randomResizedCrop !== null };
}

/**
 * Maps a dataset's labels onto a model's classes by name, so a folder whose classes are
 * a subset (or another order) of the model's is scored correctly.
 */
export function alignToModelClasses<D extends Dataset>(ds: D, modelClasses: string[]): D {
  if (ds.classes.length === modelClasses.length && ds.classes.every((c, i) => c === modelClasses[i])) return ds;
  const index = new Map(modelClasses.map((c, i) => [c, i]));
  const unknown = ds.classes.filter((c) => !index.has(c));
  if (unknown.length === 0) {
    const map = ds.classes.map((c) => index.get(c)!);
    return { ...ds, labels: Int32Array.from(ds.labels, (l) => map[l]!), classes: [...modelClasses] };
  }
  if (ds.classes.length === modelClasses.length) return { ...ds, classes: [...modelClasses] };
  const few = (list: string[]): string => `${list.slice(0, 5).join(', ')}${list.length > 5 ? `, ... (${list.length})` : ''}`;
  throw new TlcvError('DATA', `--data ${ds.name}: class${unknown.length > 1 ? 'es' : ''} ${few(unknown)} not among the model's ${modelClasses.length} classes (${few(modelClasses)})`);
}

export interface Prepared {
  model: ClassifierModel;
  train: Dataset;
  val: Dataset | null;
  /** What turns an image into the model's input: save it with the model. */
  preprocess: PreprocessConfig;
}

/**
 * The data of a run: loaded streaming (photo folders stay on disk), the preprocessing decided
 * by `decide` from what the data is, applied (random crops for training, the image cache),
 * and the validation split or spec loaded with the same record.
 */
async function runData(spec: string, val: string | undefined, seed: number, c: DataChoices, decide: (data: DataSummary, streams: boolean) => PreprocessConfig): Promise<{ train: Dataset; val: Dataset | null; preprocess: PreprocessConfig }> {
  const how = { ...(c.onBadImage ? { onBadImage: c.onBadImage } : {}), ...(c.log ? { log: c.log } : {}) };
  // No cache yet: its size depends on the preprocessing, decided from what was loaded.
  const raw = await loadDataset(spec, { stream: true, cacheImages: 'off', ...how });
  const preprocess = decide(describeData(raw), isFileDataset(raw));
  const cache = c.cacheImages ?? 'auto';
  const data = applyPreprocess(raw, preprocess, { train: true, cacheImages: cache });
  const split = await splitValidation(data, val, seed, (s) => loadDataset(s, { stream: true, preprocess, train: false, cacheImages: cache, ...how }));
  return { ...split, preprocess };
}

/**
 * What `tlcv pretrain` trains: a new model of the zoo for the data (its channels; the data's
 * own size when small, the model's photo size otherwise, or `inputSize`), initialised from
 * `seed`, and the data split.
 *
 * @example
 * const { model, train, val, preprocess } = await prepareScratch({ data: 'folder:photos:train', model: 'resnet18', val: '0.1', seed: 1 }); // 224 px
 */
export async function prepareScratch(r: { data: string; model: string; alpha?: number; val?: string; seed: number } & DataChoices): Promise<Prepared> {
  // The model name is checked before any data is read.
  resolveConfig(r.model);
  const data = await runData(r.data, r.val, r.seed, r, (summary, streams) => runPreprocess(resolveConfig(r.model, { inChannels: summary.channels }), summary, streams, r));
  const [channels, h, w] = data.preprocess.inputSize;
  // libtorch seeds its generator from the OS: without this, the seed would not fix the initial weights.
  manualSeed(r.seed);
  const model = createModel(r.model, { numClasses: data.train.classes.length, inChannels: channels, inputSize: [h, w], ...(r.alpha === undefined ? {} : { alpha: r.alpha }) });
  return { model, ...data };
}

/**
 * What a transfer trains: the source module (its weights and, from a model folder, its record)
 * with a new, seeded classifier for the data's classes, and the data at the module's input size,
 * split. The source module is changed in place (its classifier), and only once the data loaded.
 *
 * @example
 * const { train, val, preprocess } = await prepareTransfer({ module, preprocess: null }, { data: 'folder:photos:train', val: '0.1', seed: 1 });
 */
export async function prepareTransfer(source: { module: ClassifierModel; preprocess: PreprocessConfig | null }, r: { data: string; val?: string; seed: number; keepHeadFor?: string[] } & DataChoices): Promise<Prepared> {
  const model = source.module;
  const [c, h, w] = model.config.inputSize;
  // The source fixes size and channels: pretrained features expect the scale they were trained at.
  // Its record's photo settings stand where the user chose none.
  const choices = { ...carriedChoices(source.preprocess), ...definedChoices(r), inputSize: [h, w] as [number, number], channels: c };
  const data = await runData(r.data, r.val, r.seed, r, (summary, streams) => runPreprocess(model.config, summary, streams, choices));
  const same = r.keepHeadFor !== undefined && r.keepHeadFor.length === data.train.classes.length && r.keepHeadFor.every((c, i) => c === data.train.classes[i]);
  if (!same) {
    // libtorch seeds its generator from the OS: without this, the seed would not fix the new head.
    manualSeed(r.seed);
    model.resetClassifier(data.train.classes.length);
  }
  return { model, ...data };
}
