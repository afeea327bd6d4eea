/**
 * The in-memory image dataset every reader produces and every consumer takes. Images stay
 * uint8 (Fashion-MNIST train is 47 MB this way, 188 MB as float) and become float one
 * batch at a time in the DataLoader.
 */
import { TlcvError } from '../errors.js';
import type { PreprocessConfig } from './preprocess.js';
import type { StoredImageCache } from './stored-cache.js';

/** What every dataset has: labels, classes and the shape of the images it gives. */
export interface DatasetBase {
  /** A short name, usually the data spec it was loaded from. */
  name: string;
  labels: Int32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  classes: string[];
  /** Where it came from (files, folder, package), for `tlcv datasets` and reports. */
  source: string;
  /**
   * For a dataset taken from another (by the split functions): the position of each image in
   * that one, so `complement` can return the rest.
   */
  parentIndices?: Int32Array;
}

export interface ImageDataset extends DatasetBase {
  /** N*C*H*W bytes, NCHW order. */
  images: Uint8Array;
}

/**
 * The files behind a streaming dataset, shared by every dataset taken from it (splits,
 * subsets, train and eval views): paths and the upright sizes read from their headers.
 * It holds no pixels, so its memory grows with the number of files only by their paths.
 */
export interface FileIndex {
  /** The folder the paths are in (for messages). */
  dir: string;
  paths: string[];
  heights: Int32Array;
  widths: Int32Array;
  /** 1 where the file is grayscale. */
  gray: Uint8Array;
  /** Files that failed to decode during a run under onBadImage 'skip' (not retried). */
  bad: Set<number>;
  /** Stored-form caches by their settings, shared by the datasets taken from this index. */
  caches: Map<string, StoredImageCache>;
}

/**
 * A dataset that decodes its images from disk batch by batch (photo folders): an index of
 * (file, label) and the preprocessing that turns a file into a model input. The DataLoader
 * iterates it with `for await`; the split functions and modifiers other than shift take it.
 * Its channels, height and width are those of the model input each image becomes.
 */
export interface ImageFileDataset extends DatasetBase {
  kind: 'files';
  files: FileIndex;
  /** Position in `files` of each image. */
  fileIds: Int32Array;
  preprocess: PreprocessConfig;
  /** Random crops and flips (training) instead of the centre crop (evaluation). */
  train: boolean;
  /** Stored forms kept in memory (null: every image is decoded each time). */
  cache: StoredImageCache | null;
  onBadImage: 'error' | 'skip';
  log: (msg: string) => void;
  /** Headers read at once while indexing (a batch hands all its decodes to libvips at once). */
  concurrency: number;
}

/** Anything loadDataset returns: images in memory, or files streamed from disk. */
export type Dataset = ImageDataset | ImageFileDataset;

export function isFileDataset(ds: Dataset): ds is ImageFileDataset {
  return (ds as Partial<ImageFileDataset>).kind === 'files';
}

/** Split folder names an image folder may have. */
export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Bytes of one image. */
export function imageBytes(ds: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return ds.channels * ds.height * ds.width;
}

/**
 * Checks that a dataset's fields agree (sizes, label range) and returns it; readers call it
 * last so that a consumer never sees an inconsistent dataset.
 */
export function checkDataset(ds: ImageDataset): ImageDataset {
  const what = `dataset ${ds.name}`;
  for (const [k, v] of [['n', ds.n], ['channels', ds.channels], ['height', ds.height], ['width', ds.width]] as const) {
    if (!Number.isInteger(v) || v < 0 || (k !== 'n' && v === 0)) throw new TlcvError('DATA', `${what}: ${k} must be a positive integer, found ${v}`);
  }
  if (ds.images.length !== ds.n * imageBytes(ds)) {
    throw new TlcvError('DATA', `${what}: expected ${ds.n}x${ds.channels}x${ds.height}x${ds.width} = ${ds.n * imageBytes(ds)} image bytes, found ${ds.images.length}`);
  }
  if (ds.labels.length !== ds.n) throw new TlcvError('DATA', `${what}: ${ds.n} images but ${ds.labels.length} labels`);
  if (ds.classes.length === 0) throw new TlcvError('DATA', `${what}: no classes`);
  for (let i = 0; i < ds.n; i += 1) {
    const y = ds.labels[i]!;
    if (y < 0 || y >= ds.classes.length) {
      throw new TlcvError('DATA', `${what}: label ${y} of image ${i} is outside [0, ${ds.classes.length}) (${ds.classes.length} classes)`);
    }
  }
  return ds;
}

function checkIndex(ds: Dataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new TlcvError('ARGUMENT', `index ${i} is outside dataset ${ds.name} (${ds.n} images)`);
}

/** The images at the given indices, in that order (indices may repeat); a file dataset takes its index entries. */
export function takeIndices<D extends Dataset>(ds: D, indices: ArrayLike<number>, name = ds.name): D {
  const labels = new Int32Array(indices.length);
  const parentIndices = Int32Array.from(indices);
  if (isFileDataset(ds)) {
    const fileIds = new Int32Array(indices.length);
    for (let j = 0; j < indices.length; j += 1) {
      const i = indices[j]!;
      checkIndex(ds, i);
      fileIds[j] = ds.fileIds[i]!;
      labels[j] = ds.labels[i]!;
    }
    return { ...ds, name, labels, fileIds, n: indices.length, parentIndices };
  }
  const mem = ds as ImageDataset;
  const size = imageBytes(mem);
  const images = new Uint8Array(indices.length * size);
  for (let j = 0; j < indices.length; j += 1) {
    const i = indices[j]!;
    checkIndex(ds, i);
    images.set(mem.images.subarray(i * size, (i + 1) * size), j * size);
    labels[j] = mem.labels[i]!;
  }
  return { ...mem, name, images, labels, n: indices.length, parentIndices } as D;
}

/** Image counts per class, indexed by label. */
export function classCounts(ds: Pick<ImageDataset, 'labels' | 'classes'>): number[] {
  const counts = new Array<number>(ds.classes.length).fill(0);
  for (const y of ds.labels) counts[y] = (counts[y] ?? 0) + 1;
  return counts;
}

/** Indices of each class's images, in dataset order. */
export function indicesByClass(ds: Pick<ImageDataset, 'labels' | 'classes'>): number[][] {
  const out: number[][] = ds.classes.map(() => []);
  ds.labels.forEach((y, i) => out[y]!.push(i));
  return out;
}

/** Joins datasets of the same shape and classes (e.g. train + test as `:all`). */
export function concatDatasets(parts: ImageDataset[], name: string, source: string): ImageDataset {
  const first = parts[0];
  if (first === undefined) throw new TlcvError('ARGUMENT', 'concatDatasets needs at least one dataset');
  for (const p of parts) {
    if (p.channels !== first.channels || p.height !== first.height || p.width !== first.width) {
      throw new TlcvError('DATA', `cannot join ${p.name} (${p.channels}x${p.height}x${p.width}) with ${first.name} (${first.channels}x${first.height}x${first.width})`);
    }
    if (p.classes.join('\u0000') !== first.classes.join('\u0000')) throw new TlcvError('DATA', `cannot join ${p.name} and ${first.name}: their classes differ`);
  }
  const n = parts.reduce((s, p) => s + p.n, 0);
  const images = new Uint8Array(n * imageBytes(first));
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * imageBytes(first));
    labels.set(p.labels, at);
    at += p.n;
  }
  return { ...first, name, source, images, labels, n, parentIndices: undefined };
}
