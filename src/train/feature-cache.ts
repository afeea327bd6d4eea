/**
 * When the first stages are frozen and augmentation is off, their output never changes:
 * compute it once and train the rest on the cached tensor, so each epoch costs only
 * the trainable part. This is the main speed lever of transfer learning on a CPU.
 */
import { cat, inferenceMode, keep, tidy, fromTypedArray, type Tensor } from '../tensor/index.js';
import { Rng, type Batch, type IndexSampler } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import { foldedForPlan, planForward, type ExecutionPlan } from '../execution/index.js';
import { forEachBatch, type BatchSource } from './batches.js';

/**
 * Runs stages [0, upTo) over every batch; returns one kept float32 tensor. `positions`, when
 * given, receives the dataset position of each row (a streaming dataset's batch leaves out a
 * bad file skipped under onBadImage 'skip', so rows and dataset positions can differ).
 *
 * @example
 * const features = await computePrefixOutputs(model, frozenStages, new DataLoader(train, { batchSize: 64, mean, std }), plan);
 */
export async function computePrefixOutputs(model: ClassifierModel, upTo: number, source: BatchSource, plan: ExecutionPlan, positions?: number[]): Promise<Tensor> {
  const stages = model.stages();
  model.eval();
  source.setEpoch(0);
  const parts: Tensor[] = [];
  const folded = foldedForPlan(model, plan, { stages, to: upTo });
  try {
    await forEachBatch(source, (batch) => {
      parts.push(inferenceMode(() => tidy(() => planForward(model, batch.x, plan, { stages, to: upTo, folded }).contiguous())));
      positions?.push(...batch.indices);
      batch.x.dispose();
      batch.y.dispose();
    });
    // inference-mode tensors cannot enter autograd; a clone outside the mode can.
    return keep(tidy(() => cat(parts, 0).clone()));
  } finally {
    folded.dispose();
    for (const p of parts) p.dispose();
  }
}

/** The shuffled order CachedBatches visits n cached samples in, for (seed, epoch); `tlcv bench` gives it to the peer. */
export function cachedBatchOrder(seed: number, epoch: number, n: number): Int32Array {
  return new Rng(seed, 0xcac4e, epoch).permutation(n);
}

/**
 * Batches over cached features, shuffled from (seed, epoch) like the DataLoader; with a
 * sampler (a data-parallel rank's DistributedSampler over cachedBatchOrder), its positions.
 *
 * @example
 * const batches = new CachedBatches(features, train.labels, { batchSize: 64, shuffle: true, seed: 0, dropLast: false });
 */
export class CachedBatches implements BatchSource {
  readonly length: number;
  #epoch = 0;

  constructor(
    private readonly features: Tensor,
    private readonly labels: Int32Array,
    private readonly o: { batchSize: number; shuffle: boolean; seed: number; dropLast: boolean; sampler?: IndexSampler },
  ) {
    const n = o.sampler?.length ?? labels.length;
    this.length = o.dropLast ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
  }

  setEpoch(epoch: number): void {
    this.#epoch = epoch;
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const n = this.labels.length;
    const order = this.o.sampler?.indices(this.#epoch) ?? (this.o.shuffle ? cachedBatchOrder(this.o.seed, this.#epoch, n) : Int32Array.from({ length: n }, (_, i) => i));
    for (let b = 0; b < this.length; b += 1) {
      const idx = order.subarray(b * this.o.batchSize, Math.min(order.length, (b + 1) * this.o.batchSize));
      const ys = Int32Array.from(idx, (i) => this.labels[i]!);
      const batch = tidy(() => {
        // Indices and labels go where the cached features are (a GPU in a CUDA run).
        const device = this.features.device;
        const onDevice = (t: Tensor): Tensor => (device.startsWith('cpu') ? t : t.to({ device }));
        const index = onDevice(fromTypedArray(idx, [idx.length]).long());
        return { x: keep(this.features.indexSelect(0, index)), y: keep(onDevice(fromTypedArray(ys, [ys.length]).long())), indices: Int32Array.from(idx) };
      });
      yield batch;
    }
  }

  dispose(): void {
    this.features.dispose();
  }
}
