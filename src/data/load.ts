/**
 * loadDataset: from a data spec to a dataset of the size and channels a model wants: in
 * memory, or (with `stream`) streaming from disk for photo folders.
 */
import { TlcvError } from '../errors.js';
import { readCifar } from './cifar.js';
import { isFileDataset, type Dataset, type ImageDataset } from './dataset.js';
import { applyPreprocess, streamImageFolder, type StreamOptions } from './file-dataset.js';
import { conformDataset } from './image-ops.js';
import { loadImageFolder } from './image-folder.js';
import { readIdxDataset } from './idx.js';
import { cifarLocation, loadNamed } from './named.js';
import { shiftDomain } from './shift.js';
import { parseDataSpec, type DataModifiers, type DataSource, type DataSpec } from './spec.js';
import { complement, fractionSplit, resample, selectClasses, stratifiedSubset } from './splits.js';

export interface LoadOptions {
  /** Channels the consumer wants (1 or 3); the dataset is converted when it differs. */
  channels?: number;
  /** [height, width] the consumer wants; images are resized when they differ. */
  size?: [number, number];
  /** For image folders: 'error' (default) lists every bad file; 'skip' leaves them out. */
  onBadImage?: 'error' | 'skip';
  log?: (msg: string) => void;
}

/**
 * Options of the streaming form: photo folders become an index decoded batch by batch, with
 * the given preprocessing (see resolveDataConfig), train/eval crops and image cache. Other
 * data loads into memory as before, then takes the preprocessing's size and channels.
 */
export interface StreamLoadOptions extends Omit<LoadOptions, 'size' | 'channels'>, Omit<StreamOptions, 'split' | 'onBadImage' | 'log'> {
  stream: true;
}

async function loadSource(src: DataSource, o: LoadOptions): Promise<ImageDataset> {
  const log = o.log ?? ((): void => undefined);
  switch (src.kind) {
    case 'mnist':
    case 'fashion-mnist':
      return loadNamed(src.kind, src.split, log);
    case 'idx':
      return readIdxDataset(src.images, src.labels);
    case 'folder':
      return loadImageFolder(src.dir, { split: src.split, channels: o.channels, size: o.size, onBadImage: o.onBadImage, log });
    case 'cifar10':
    case 'cifar100': {
      const dir = src.dir ?? cifarLocation(src.kind);
      if (dir === null) {
        const env = src.kind === 'cifar10' ? 'TLCV_CIFAR10_DIR' : 'TLCV_CIFAR100_DIR';
        throw new TlcvError('FILE', `${src.kind}:${src.split} needs its folder: give it (${src.kind}:DIR:${src.split}) or set ${env}`);
      }
      return readCifar(dir, src.kind, src.split);
    }
  }
}

/**
 * Applies a spec's modifiers in their fixed order: classes, k or frac (and rest), n, shift.
 *
 * @example
 * const target = applyModifiers(all, { k: 10, seed: 1 });
 * const test = applyModifiers(all, { k: 10, seed: 1, rest: true });
 */
export function applyModifiers<D extends Dataset>(ds: D, m: DataModifiers): D {
  const seed = m.seed ?? 0;
  let out = ds;
  if (m.shift !== undefined && isFileDataset(ds)) {
    throw new TlcvError('DATA', `${ds.name}: shift= needs the images in memory and this photo folder streams from disk; shifted domains are for digit-sized data`);
  }
  if (m.classes !== undefined) out = selectClasses(out, m.classes, { remap: m.remap ?? true });
  if (m.k !== undefined || m.frac !== undefined) {
    const pool = out;
    let chosen: D;
    let rest: D;
    if (m.k !== undefined) {
      chosen = stratifiedSubset(pool, m.k, seed);
      rest = m.rest ? complement(pool, chosen) : chosen;
    } else {
      [chosen, rest] = fractionSplit(pool, m.frac!, seed, { stratified: m.stratify ?? true });
    }
    out = m.rest ? rest : chosen;
  }
  if (m.n !== undefined) out = resample(out, m.n, seed);
  if (m.shift !== undefined) out = shiftDomain(out as ImageDataset, m.shift, seed) as D;
  return out;
}

/**
 * Loads the data a spec names, applies its modifiers, and converts it to the channels and
 * size asked for, so any dataset can feed any model.
 *
 * @example
 * const train = await loadDataset('fashion-mnist:train');
 * const target = await loadDataset('mnist:all@k=10,seed=1', { channels: 3, size: [32, 32] });
 */
export async function loadDataset(spec: string | DataSpec, o?: LoadOptions): Promise<ImageDataset>;
/**
 * The streaming form: a photo folder comes back as an ImageFileDataset (an index, decoded
 * per batch by the DataLoader's async iterator, with the cache that `cacheImages` allows);
 * digit-sized folders, IDX, CIFAR and the npm digits load into memory.
 *
 * @example
 * const ds = await loadDataset('folder:photos:train', { stream: true, train: true, cacheImages: 'auto' });
 * const cfg = resolveDataConfig({ model: getModelConfig('resnet18'), data: describeData(ds) });
 * const train = applyPreprocess(ds, cfg, { train: true });
 */
export async function loadDataset(spec: string | DataSpec, o: StreamLoadOptions): Promise<Dataset>;
export async function loadDataset(spec: string | DataSpec, o: LoadOptions | StreamLoadOptions = {}): Promise<Dataset> {
  const parsed = typeof spec === 'string' ? parseDataSpec(spec) : spec;
  if ('stream' in o) return loadStreaming(parsed, o);
  const raw = await loadSource(parsed.source, o);
  const modified = applyModifiers(raw, parsed.modifiers);
  const channels = o.channels ?? modified.channels;
  const [height, width] = o.size ?? [modified.height, modified.width];
  const ds = conformDataset(modified, { channels, height, width });
  return { ...ds, name: parsed.text };
}

async function loadStreaming(parsed: DataSpec, o: StreamLoadOptions): Promise<Dataset> {
  const src = parsed.source;
  const { stream: _stream, ...rest } = o;
  const raw: Dataset = src.kind === 'folder' ? await streamImageFolder(src.dir, { ...rest, ...(src.split ? { split: src.split } : {}) }) : await loadSource(src, rest);
  const modified = applyModifiers(raw, parsed.modifiers);
  const ds = o.preprocess !== undefined && !isFileDataset(modified) ? applyPreprocess(modified, o.preprocess) : modified;
  return { ...ds, name: parsed.text };
}
