/**
 * PyTorch's DistributedSampler: each rank takes every worldSize-th position of the epoch's
 * order, so the shards are disjoint and together cover the data once. The order is the
 * DataLoader's own shuffle for (seed, epoch), so one rank of a one-process world sees exactly
 * what a shuffled DataLoader sees, and a world of N sees the same global batches as one
 * process with N times the batch. To make every shard the same length (each rank must run the
 * same number of steps, or the collectives would not pair up), the order is padded with its
 * own first positions, as PyTorch pads; with dropLast the tail is dropped instead.
 */
import { Rng, type IndexSampler } from '../data/index.js';
import { argumentError } from '../errors.js';

export interface DistributedSamplerOptions {
  numReplicas: number;
  rank: number;
  /** Reshuffle each epoch (default true); the order depends only on seed and epoch. */
  shuffle?: boolean;
  seed?: number;
  /** Drop the tail that does not divide evenly, instead of padding (default false). */
  dropLast?: boolean;
  /**
   * The epoch's order over the whole data (default: the DataLoader's shuffle for seed and
   * epoch), for a source that shuffles its own way, as the Learner's cached features do.
   */
  order?: (epoch: number) => Int32Array;
}

/**
 * @example
 * const sampler = new DistributedSampler(train.n, { numReplicas: group.worldSize, rank: group.rank, seed: 1 });
 * const loader = new DataLoader(train, { batchSize: 64, sampler, mean: [0.5], std: [0.5] });
 * loader.setEpoch(epoch); // the sampler's order follows the loader's epoch
 */
export class DistributedSampler implements IndexSampler {
  readonly size: number;
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Positions per rank and epoch (PyTorch's num_samples). */
  readonly length: number;
  /** length * numReplicas: the padded (or cut) epoch. */
  readonly totalSize: number;
  readonly #order: ((epoch: number) => Int32Array) | undefined;

  constructor(size: number, o: DistributedSamplerOptions) {
    if (!Number.isInteger(size) || size < 0) throw argumentError('size', 'a non-negative integer', size);
    if (!Number.isInteger(o.numReplicas) || o.numReplicas < 1) throw argumentError('numReplicas', 'a positive integer', o.numReplicas);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.numReplicas) throw argumentError('rank', `an integer in [0, ${o.numReplicas - 1}]`, o.rank);
    const seed = o.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0) throw argumentError('seed', 'a non-negative integer', seed);
    this.size = size;
    this.numReplicas = o.numReplicas;
    this.rank = o.rank;
    this.shuffle = o.shuffle ?? true;
    this.seed = seed;
    this.dropLast = o.dropLast ?? false;
    this.#order = o.order;
    const uneven = size % this.numReplicas !== 0;
    this.length = this.dropLast && uneven ? Math.max(0, Math.ceil((size - this.numReplicas) / this.numReplicas)) : Math.ceil(size / this.numReplicas);
    this.totalSize = this.length * this.numReplicas;
  }

  /** The epoch's order over the whole data, before padding and sharding (the DataLoader's shuffle). */
  globalOrder(epoch: number): Int32Array {
    if (!this.shuffle) return Int32Array.from({ length: this.size }, (_, i) => i);
    if (this.#order !== undefined) return this.#order(epoch);
    return new Rng(this.seed, 0x10ade7, epoch).permutation(this.size);
  }

  /** This rank's positions for the epoch. */
  indices(epoch: number): Int32Array {
    const order = this.globalOrder(epoch);
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k += 1) {
      // Position j of the padded epoch: past the end it wraps to the start, as PyTorch's padding repeats the order.
      const j = this.rank + k * this.numReplicas;
      out[k] = order[j % this.size]!;
    }
    return out;
  }
}
