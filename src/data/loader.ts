/**
 * DataLoader: batches from the uint8 store, or decoded from files for a streaming dataset.
 * Each batch's bytes are gathered in JS into one buffer, copied to libtorch once, and made
 * float, augmented and normalised with native ops.
 *
 * In-memory data needs no prefetching: gathering a batch's bytes costs microseconds (see
 * bench/data-bench.ts), far below a training step. Streaming data is decoded on libvips's
 * threads: the async iterator keeps the next `prefetch` batches decoding while the caller
 * trains on the current one, and holds them as bytes, so a loop that stops early leaks no tensor.
 */
import { fromTypedArray, tidy, type Tensor } from '../tensor/index.js';
import type { MemoryFormat } from '../tensor/index.js';
import { TlcvError, argumentError } from '../errors.js';
import { imageBytes, isFileDataset, type Dataset, type ImageDataset } from './dataset.js';
import { readFileBatch, type BatchBytes } from './file-batches.js';
import { Rng } from '../sampling/rng.js';

/** What the DataLoader needs from an augmenter (src/transforms/augment.ts implements it). */
export interface BatchAugmenter {
  readonly enabled: boolean;
  /** Float NCHW in [0, 1] in, same shape out. */
  apply(x: Tensor): Tensor;
  /** Restarts the parameter stream for an epoch, so a resumed run draws what an uninterrupted one would. */
  reseed?(seed: number, ...streams: number[]): void;
}

/** Chooses which dataset positions an epoch visits, in order (src/distributed's DistributedSampler is one). */
export interface IndexSampler {
  /** Positions per epoch. */
  readonly length: number;
  indices(epoch: number): Int32Array;
}

export interface DataLoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  /** Takes the epoch's order from here instead of the loader's own (exclusive with shuffle, as in PyTorch). */
  sampler?: IndexSampler;
  seed?: number;
  dropLast?: boolean;
  /** Per-channel mean and std (one value each, or one per channel), in [0, 1] units. */
  mean: number[];
  std: number[];
  augment?: BatchAugmenter;
  device?: string;
  memoryFormat?: 'contiguous' | 'channelsLast';
  /** Streaming datasets: batches decoded ahead of the one being consumed (default 2). */
  prefetch?: number;
}

export interface Batch {
  /** float32, normalised, NCHW (or channels-last strides). */
  x: Tensor;
  /** int64 class labels. */
  y: Tensor;
  /** Positions in the dataset of this batch's images. */
  indices: Int32Array;
}

function perChannel(name: string, v: number[], channels: number, positive: boolean): number[] {
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== channels)) {
    throw argumentError(name, `1 or ${channels} numbers (one per channel)`, v);
  }
  if (!v.every((x) => Number.isFinite(x) && (!positive || x > 0))) throw argumentError(name, positive ? 'positive numbers' : 'finite numbers', v);
  return v.length === 1 ? new Array<number>(channels).fill(v[0]!) : [...v];
}

/**
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1, mean: [0.286], std: [0.353] });
 * for (let epoch = 0; epoch < 3; epoch += 1) {
 *   loader.setEpoch(epoch);
 *   for (const { x, y } of loader) tidy(() => step(x, y)); // step disposes nothing it did not make
 * }
 */
export class DataLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly mean: number[];
  readonly std: number[];
  readonly augment: BatchAugmenter | undefined;
  readonly device: string;
  readonly memoryFormat: MemoryFormat;
  readonly sampler: IndexSampler | undefined;
  readonly prefetch: number;
  #epoch = 0;

  constructor(ds: Dataset, o: DataLoaderOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw argumentError('batchSize', 'a positive integer', o.batchSize);
    const seed = o.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0) throw argumentError('seed', 'a non-negative integer', seed);
    if (ds.n === 0) throw new TlcvError('DATA', `dataset ${ds.name} is empty: there is nothing to load`);
    if (o.sampler !== undefined && (o.shuffle ?? false)) throw new TlcvError('ARGUMENT', 'shuffle and sampler are exclusive: the sampler chooses the order (DistributedSampler shuffles itself)');
    const positions = o.sampler?.length ?? ds.n;
    if ((o.dropLast ?? false) && o.batchSize > positions) {
      throw new TlcvError('ARGUMENT', `batch size ${o.batchSize} is larger than dataset ${ds.name} (${ds.n} images) and drop-last is on: no batch would be produced; lower the batch size or turn drop-last off`);
    }
    this.dataset = ds;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? false;
    this.seed = seed;
    this.dropLast = o.dropLast ?? false;
    this.mean = perChannel('mean', o.mean, ds.channels, false);
    this.std = perChannel('std', o.std, ds.channels, true);
    this.augment = o.augment;
    this.device = o.device ?? 'cpu';
    this.memoryFormat = o.memoryFormat ?? 'contiguous';
    this.sampler = o.sampler;
    this.prefetch = o.prefetch ?? 2;
    if (!Number.isInteger(this.prefetch) || this.prefetch < 0) throw argumentError('prefetch', 'a non-negative integer', o.prefetch);
  }

  /** Batches per epoch. */
  get length(): number {
    const positions = this.sampler?.length ?? this.dataset.n;
    return this.dropLast ? Math.floor(positions / this.batchSize) : Math.ceil(positions / this.batchSize);
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Chooses the epoch whose order the next iteration uses: the same seed and epoch give the same order. */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw argumentError('epoch', 'a non-negative integer', epoch);
    this.#epoch = epoch;
    this.augment?.reseed?.(this.seed, epoch);
  }

  /** The order of dataset positions for an epoch (identity without shuffle). */
  order(epoch = this.#epoch): Int32Array {
    if (this.sampler !== undefined) return this.sampler.indices(epoch);
    if (!this.shuffle) return Int32Array.from({ length: this.dataset.n }, (_, i) => i);
    return new Rng(this.seed, 0x10ade7, epoch).permutation(this.dataset.n);
  }

  /** The uint8 bytes and labels of the images at the given positions, gathered into one buffer each. */
  gather(indices: Int32Array): { bytes: Uint8Array; labels: Int32Array } {
    const ds = this.#inMemory();
    const size = imageBytes(ds);
    const bytes = new Uint8Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    for (let j = 0; j < indices.length; j += 1) {
      const i = indices[j]!;
      bytes.set(ds.images.subarray(i * size, (i + 1) * size), j * size);
      labels[j] = ds.labels[i]!;
    }
    return { bytes, labels };
  }

  #inMemory(): ImageDataset {
    const ds = this.dataset;
    if (isFileDataset(ds)) {
      throw new TlcvError('DATA', `dataset ${ds.name} streams its images from disk: iterate its loader with \`for await (const batch of loader)\` (or loadBatch), not synchronously`);
    }
    return ds;
  }

  /** Builds one batch from dataset positions (in-memory data); the tensors belong to the caller. */
  batch(indices: Int32Array): Batch {
    const { bytes, labels } = this.gather(indices);
    return this.#toBatch({ bytes, labels, indices });
  }

  /**
   * Builds one batch from dataset positions for any dataset; a streaming one decodes its
   * files (a bad file skipped under onBadImage 'skip' is missing from the batch).
   */
  async loadBatch(indices: Int32Array): Promise<Batch> {
    const ds = this.dataset;
    if (!isFileDataset(ds)) return this.batch(indices);
    return this.#toBatch(await readFileBatch(ds, indices, this.seed, this.#epoch));
  }

  #toBatch({ bytes, labels, indices }: BatchBytes): Batch {
    const ds = this.dataset;
    const b = indices.length;
    const augment = this.augment?.enabled ? this.augment : undefined;
    return tidy(() => {
      let u8 = fromTypedArray(bytes, [b, ds.channels, ds.height, ds.width]);
      // Move bytes, not floats: a quarter of the traffic to an accelerator.
      if (this.device !== 'cpu') u8 = u8.to(this.device);
      const shape = [1, ds.channels, 1, 1];
      let x: Tensor;
      if (augment === undefined) {
        // (v/255 - mean)/std folded into one multiply-add per channel.
        const scale = fromTypedArray(Float32Array.from(this.std, (s) => 1 / (255 * s)), shape, { device: this.device });
        const shift = fromTypedArray(Float32Array.from(this.mean, (m, c) => -m / this.std[c]!), shape, { device: this.device });
        x = u8.to('float32').mul_(scale).add_(shift);
      } else {
        const unit = augment.apply(u8.to('float32').div_(255));
        const mean = fromTypedArray(Float32Array.from(this.mean), shape, { device: this.device });
        const invStd = fromTypedArray(Float32Array.from(this.std, (s) => 1 / s), shape, { device: this.device });
        // unit is either the float batch made above or the augmenter's new tensor: ours to change in place.
        x = unit.sub_(mean).mul_(invStd);
      }
      if (this.memoryFormat === 'channelsLast') x = x.contiguous('channelsLast');
      const y = fromTypedArray(labels, [b], { device: this.device }).to('int64');
      return { x, y, indices };
    });
  }

  #positions(order: Int32Array, k: number): Int32Array {
    return order.subarray(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length));
  }

  *[Symbol.iterator](): Iterator<Batch> {
    this.#inMemory();
    const order = this.order();
    const count = this.length;
    for (let k = 0; k < count; k += 1) yield this.batch(this.#positions(order, k));
  }

  /**
   * Batches of the current epoch for any dataset: in-memory data gives exactly the batches of
   * the synchronous iterator; streaming data decodes `prefetch` batches ahead. A batch whose
   * every file was skipped as bad is left out.
   *
   * @example
   * for await (const { x, y } of loader) tidy(() => step(x, y));
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const ds = this.dataset;
    const order = this.order();
    const count = this.length;
    if (!isFileDataset(ds)) {
      for (let k = 0; k < count; k += 1) yield this.batch(this.#positions(order, k));
      return;
    }
    const epoch = this.#epoch;
    const ahead: Promise<BatchBytes>[] = [];
    const start = (k: number): void => {
      const p = readFileBatch(ds, this.#positions(order, k), this.seed, epoch);
      // Rejections are handled where the batch is awaited; this keeps an abandoned one quiet.
      p.catch(() => undefined);
      ahead.push(p);
    };
    let next = 0;
    for (; next < Math.min(count, this.prefetch + 1); next += 1) start(next);
    for (let k = 0; k < count; k += 1) {
      const bytes = await ahead.shift()!;
      if (next < count) start(next++);
      if (bytes.indices.length > 0) yield this.#toBatch(bytes);
    }
  }
}
