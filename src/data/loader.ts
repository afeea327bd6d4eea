/**
 * DataLoader: batches from the uint8 store. Each batch's bytes are gathered in JS into one
 * buffer, copied to libtorch once, and made float, augmented and normalised with native ops.
 *
 * No prefetching: gathering a batch's bytes costs microseconds (see bench/data-bench.ts),
 * far below a training step, and a synchronous iterator has no other thread to overlap with.
 */
import { fromTypedArray, tidy, type Tensor } from '../tensor/index.js';
import type { MemoryFormat } from '../tensor/index.js';
import { TlcvError, argumentError } from '../errors.js';
import { imageBytes, type ImageDataset } from './dataset.js';
import { Rng } from './rng.js';

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
  readonly dataset: ImageDataset;
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
  #epoch = 0;

  constructor(ds: ImageDataset, o: DataLoaderOptions) {
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
    const ds = this.dataset;
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

  /** Builds one batch from dataset positions; the tensors belong to the caller. */
  batch(indices: Int32Array): Batch {
    const ds = this.dataset;
    const { bytes, labels } = this.gather(indices);
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

  *[Symbol.iterator](): Iterator<Batch> {
    const order = this.order();
    const count = this.length;
    for (let k = 0; k < count; k += 1) {
      yield this.batch(order.subarray(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length)));
    }
  }
}
