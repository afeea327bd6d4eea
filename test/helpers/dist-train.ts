/**
 * A small data-parallel training loop for the distributed tests: TinyNet, SGD with momentum,
 * no dropout, a DistributedSampler over tinyDataset. The same function is the single-process
 * reference (group null, global batch) and each worker's loop (group set, local batch), so
 * the two runs differ only in how the gradients are averaged.
 */
import { DataLoader } from '../../src/data/index.js';
import { DistributedDataParallel, DistributedSampler, type ProcessGroup } from '../../src/distributed/index.js';
import { SGD } from '../../src/optim/index.js';
import { F, liveTensors, manualSeed, tidy } from '../../src/tensor/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './tiny-model.js';

export interface TrainSpec {
  /** Images in tinyDataset. */
  n: number;
  /** Images per step on this process. */
  batch: number;
  steps: number;
  seed: number;
  /** manualSeed before the model is built; workers add their rank, so only the broadcast can make them agree. */
  initSeed: number;
  lr: number;
  momentum: number;
  /**
   * overlap: ddp.backward (c10d's Reducer); after: loss.backward() then ddp.allreduceGradients();
   * their ...-sync twins block the JS thread; prepare: ddp.prepareForBackward(loss) then the
   * loop's own loss.backward(), as a Learner callback does it.
   */
  mode: 'overlap' | 'after' | 'overlap-sync' | 'after-sync' | 'prepare';
  /** Print "step k" after each step (the fault tests wait for it). */
  announce?: boolean;
  /** Rank whose JS thread blocks for good after this many steps (the hang test). */
  spinRank?: number;
  spinAfter?: number;
}

export interface TrainOutcome {
  weights: Record<string, number[]>;
  /** The mean loss of each global batch (reduced over the ranks). */
  losses: number[];
  buckets: number;
  liveTensorsBefore: number;
  liveTensorsAfter: number;
}

export async function trainTiny(spec: TrainSpec, group: ProcessGroup | null): Promise<TrainOutcome> {
  const rank = group?.rank ?? 0;
  const world = group?.worldSize ?? 1;
  const liveTensorsBefore = liveTensors().count;
  manualSeed(spec.initSeed + rank);
  const model = new TinyNet({ ...TINY_CONFIG });
  const ds = tinyDataset(spec.n);
  const sampler = new DistributedSampler(ds.n, { numReplicas: world, rank, seed: spec.seed });
  const loader = new DataLoader(ds, { batchSize: spec.batch, sampler, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  const ddp = group === null ? null : await DistributedDataParallel.create(model, group);
  const opt = new SGD(model.parameters(), { lr: spec.lr, momentum: spec.momentum });
  const losses: number[] = [];
  for (let epoch = 0; losses.length < spec.steps; epoch += 1) {
    loader.setEpoch(epoch);
    for (const k of Array.from({ length: loader.length }, (_, i) => i)) {
      if (losses.length >= spec.steps) break;
      const batch = loader.batch(loader.order().subarray(k * spec.batch, (k + 1) * spec.batch));
      const sync = spec.mode.endsWith('-sync') || spec.mode === 'prepare';
      if (sync) ddp?.syncBuffersSync();
      else await ddp?.syncBuffers();
      const loss = tidy(() => F.crossEntropy(model.forward(batch.x), batch.y));
      if (ddp === null) loss.backward();
      else if (spec.mode === 'overlap') await ddp.backward(loss);
      else if (spec.mode === 'overlap-sync') ddp.backwardSync(loss);
      else if (spec.mode === 'prepare') {
        ddp.prepareForBackward(loss);
        try {
          loss.backward();
        } catch (e) {
          throw ddp.explainBackward(e);
        }
      } else {
        loss.backward();
        if (sync) ddp.allreduceGradientsSync();
        else await ddp.allreduceGradients();
      }
      const mine = loss.item();
      const sums = group === null ? [mine] : sync ? group.allreduceSumsSync([mine]) : await group.allreduceSums([mine]);
      losses.push(sums[0]! / world);
      opt.step();
      opt.zeroGrad();
      loss.dispose();
      batch.x.dispose();
      batch.y.dispose();
      if (spec.announce) console.log(`step ${losses.length}`);
      // A JS thread that never returns (its native heartbeat still beats): Atomics.wait blocks without using a core.
      if (spec.spinRank === rank && losses.length === spec.spinAfter) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
  }
  const weights = Object.fromEntries([...model.stateDict()].map(([name, t]) => [name, Array.from(t.toTypedArray() as Float32Array)]));
  const buckets = ddp?.buckets ?? 0;
  ddp?.dispose();
  opt.dispose();
  model.dispose();
  return { weights, losses, buckets, liveTensorsBefore, liveTensorsAfter: liveTensors().count };
}
