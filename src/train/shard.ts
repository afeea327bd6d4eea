/**
 * How a data-parallel Learner splits its data among the ranks:
 * - training: the batch size is the global batch, split evenly, and PyTorch's
 *   DistributedSampler gives each rank every worldSize-th position of the epoch's shuffled
 *   order: together the ranks take exactly the global batches one process would take;
 * - validation: contiguous shards without padding, so every image counts once and the summed
 *   metrics are those of the whole set; each rank validates its own shard (on rank 0 alone, the
 *   others would wait in the next step's collective for as long as it takes, and fail past
 *   the collective timeout on a large set);
 * - the frozen prefix's outputs: each rank computes its shard, then receives the others', so
 *   training draws from the whole cache in the order one process would.
 */
import { TlcvError } from '../errors.js';
import { zeros, type Tensor } from '../tensor/index.js';
import { takeIndices, type BatchAugmenter, type Dataset } from '../data/index.js';
import { DistributedSampler } from '../distributed/index.js';
import type { ClassifierModel } from '../models/index.js';
import type { ExecutionPlan } from '../execution/index.js';
import type { Augmenter } from '../transforms/index.js';
import type { Collective } from './callback.js';
import { computePrefixOutputs } from './feature-cache.js';
import type { BatchSource } from './batches.js';

/** Each rank's share of the global batch. */
export function perRankBatch(c: Collective, batchSize: number): number {
  if (batchSize % c.worldSize !== 0) {
    throw new TlcvError('ARGUMENT', `--batch-size ${batchSize}: expected a multiple of the ${c.worldSize} processes (it is the global batch, split evenly among them)`);
  }
  return batchSize / c.worldSize;
}

/** Rank's contiguous part of n items: sizes differ by at most one, earlier ranks take the extra. */
export function shardRange(n: number, rank: number, worldSize: number): [number, number] {
  const base = Math.floor(n / worldSize);
  const extra = n % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}

const range = (start: number, end: number): Int32Array => Int32Array.from({ length: end - start }, (_, i) => start + i);

/** The sampler of a rank's training positions, over `order`'s shuffle (default: the DataLoader's). */
export function trainSampler(c: Collective, n: number, seed: number, order?: (epoch: number) => Int32Array): DistributedSampler {
  return new DistributedSampler(n, { numReplicas: c.worldSize, rank: c.rank, seed, ...(order === undefined ? {} : { order }) });
}

/** The validation images this rank scores; null when there are fewer than ranks (each then scores all). */
export function validationShard(c: Collective, ds: Dataset): Dataset | null {
  if (ds.n < c.worldSize) return null;
  const [start, end] = shardRange(ds.n, c.rank, c.worldSize);
  return takeIndices(ds, range(start, end), `${ds.name} (rank ${c.rank}'s part)`);
}

/**
 * The augmenter with the rank as one more stream: ranks draw different parameters for the
 * images they see at the same place of their batches (a resumed run still draws the same).
 */
export function rankAugmenter(a: Augmenter, rank: number): BatchAugmenter {
  return { enabled: a.enabled, apply: (x) => a.apply(x), reseed: (seed, ...streams) => a.reseed(seed, ...streams, rank) };
}

/** Rows per step of the sharded cache: ranks meet after each, so noise elsewhere never adds up to a collective timeout. */
const CHUNK_BATCHES = 4;
/** At most this many bytes cross in one broadcast when the ranks exchange their shards. */
const SEND_BYTES = 32 * 1024 * 1024;

/**
 * The frozen prefix's outputs over all of `ds`, each rank computing its contiguous shard
 * (in chunks, meeting the others after each), then every rank receiving the other shards.
 *
 * @example
 * const features = await shardedPrefixOutputs(group, model, 3, train, plan, 64, (d) => loaderFor(d, model, opts, { train: false }));
 */
export async function shardedPrefixOutputs(
  c: Collective,
  model: ClassifierModel,
  upTo: number,
  ds: Dataset,
  plan: ExecutionPlan,
  batchSize: number,
  loader: (d: Dataset) => BatchSource,
): Promise<Tensor> {
  if (ds.n < c.worldSize) throw new TlcvError('DATA', `${ds.name}: ${ds.n} images cannot be shared among ${c.worldSize} processes`);
  const shards = Array.from({ length: c.worldSize }, (_, r) => shardRange(ds.n, r, c.worldSize));
  const [start, end] = shards[c.rank]!;
  const chunk = CHUNK_BATCHES * batchSize;
  const rounds = Math.ceil(Math.max(...shards.map(([a, b]) => b - a)) / chunk);
  let all: Tensor | null = null;
  try {
    for (let k = 0; k < rounds; k += 1) {
      const a = Math.min(end, start + k * chunk);
      const b = Math.min(end, a + chunk);
      if (b > a) {
        const positions: number[] = [];
        const part = await computePrefixOutputs(model, upTo, loader(takeIndices(ds, range(a, b))), plan, positions);
        if (positions.length !== b - a) {
          part.dispose();
          // Every rank holds every row: a shard that skipped an image would shift the labels of all.
          throw new TlcvError('DATA', `${ds.name}: ${b - a - positions.length} image(s) of rank ${c.rank}'s shard could not be decoded; a data-parallel run with a frozen-prefix cache needs every image readable (remove them, or run with one process)`);
        }
        all ??= zeros([ds.n, ...part.shape.slice(1)], { dtype: part.dtype });
        const rows = all.narrow(0, a, b - a);
        rows.copy_(part);
        rows.dispose();
        part.dispose();
      }
      await c.allreduceSums([0], "computing the frozen layers' outputs, each rank its shard");
    }
    // float32 (or bf16) rows: 4 bytes an element bounds the chunk either way.
    const rows = Math.max(1, Math.floor(SEND_BYTES / ((all!.numel / ds.n) * 4)));
    for (const [r, [a, b]] of shards.entries()) {
      for (let at = a; at < b; at += rows) {
        const view = all!.narrow(0, at, Math.min(rows, b - at));
        try {
          await c.broadcast([view], r, "gathering the frozen layers' outputs");
        } finally {
          view.dispose();
        }
      }
    }
    return all!;
  } catch (e) {
    all?.dispose();
    throw e;
  }
}
