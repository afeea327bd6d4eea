/**
 * Getting a model and its data ready for a run: the data loaded at the model's input size, a
 * validation split, and a model built (or adapted) with seeded new weights.
 */
import { TlcvError } from '../errors.js';
import { manualSeed } from '../tensor/index.js';
import { conformDataset, fractionSplit, loadDataset, type ImageDataset } from '../data/index.js';
import { createModel, getModelConfig, type ClassifierModel } from '../models/index.js';
import { loadSourceModel } from '../transfer/source.js';

type LoadHow = { onBadImage?: 'error' | 'skip'; log?: (m: string) => void };

/**
 * Resolves `--val`: 'none', a fraction of the training data (stratified), or a data spec.
 *
 * @example
 * const { train, val } = await splitValidation(data, '0.1', 0, (spec) => loadDataset(spec));
 */
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

/**
 * A data spec loaded at a model's input size and channel count.
 *
 * @example
 * const digits = await loadForModel('mnist:all@k=10', model);
 */
export async function loadForModel(spec: string, model: ClassifierModel, o: LoadHow = {}): Promise<ImageDataset> {
  const [c, h, w] = model.config.inputSize;
  const ds = await loadDataset(spec, { channels: c, size: [h, w], ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}) });
  return conformDataset(ds, { channels: c, height: h, width: w });
}

export interface Prepared {
  model: ClassifierModel;
  train: ImageDataset;
  val: ImageDataset | null;
}

/**
 * What `tlcv pretrain` trains: a new model of the zoo for the data (its channels, and its size
 * or the model's minimum, or `inputSize`), initialised from `seed`, and the data split.
 *
 * @example
 * const { model, train, val } = await prepareScratch({ data: 'fashion-mnist:train', model: 'seed-cnn', val: '0.1', seed: 1 });
 */
export async function prepareScratch(r: { data: string; model: string; inputSize?: [number, number] | null; alpha?: number; val?: string; seed: number } & LoadHow): Promise<Prepared> {
  // The model name is checked before any data is read.
  const [, minH, minW] = getModelConfig(r.model).minInputSize;
  const raw = await loadDataset(r.data, { ...(r.onBadImage ? { onBadImage: r.onBadImage } : {}), ...(r.log ? { log: r.log } : {}) });
  // Data smaller than the model's minimum is upsampled to it.
  const size: [number, number] = r.inputSize ?? [Math.max(raw.height, minH), Math.max(raw.width, minW)];
  // libtorch seeds its generator from the OS: without this, the seed would not fix the initial weights.
  manualSeed(r.seed);
  const model = createModel(r.model, { numClasses: raw.classes.length, inChannels: raw.channels, inputSize: size, ...(r.alpha === undefined ? {} : { alpha: r.alpha }) });
  const conform = (ds: ImageDataset): ImageDataset => conformDataset(ds, { channels: raw.channels, height: size[0], width: size[1] });
  try {
    const split = await splitValidation(conform(raw), r.val, r.seed, async (s) => conform(await loadDataset(s, { ...(r.onBadImage ? { onBadImage: r.onBadImage } : {}), ...(r.log ? { log: r.log } : {}) })));
    return { model, ...split };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * What `tlcv transfer` trains: the source model (a model folder, a weights file, a zoo name
 * with pretrained weights) with a new, seeded classifier for the data's classes, and the data
 * at the model's input size, split.
 *
 * @example
 * const { model, train, val, description } = await prepareTransfer({ from: 'runs/source', data: 'mnist:all@k=10', val: 'none', seed: 1 });
 */
export async function prepareTransfer(r: { from: string; modelName?: string; data: string; val?: string; seed: number } & LoadHow): Promise<Prepared & { description: string }> {
  const source = await loadSourceModel(r.from, { ...(r.modelName === undefined ? {} : { modelName: r.modelName }), ...(r.log ? { log: r.log } : {}) });
  const { model } = source;
  try {
    const data = await loadForModel(r.data, model, r);
    const split = await splitValidation(data, r.val, r.seed, (s) => loadForModel(s, model, r));
    // libtorch seeds its generator from the OS: without this, the seed would not fix the new head.
    manualSeed(r.seed);
    model.resetClassifier(data.classes.length);
    return { model, ...split, description: source.description };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
