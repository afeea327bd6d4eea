/**
 * A Learner run for the data-parallel tests: TinyNet, SGD with momentum, no dropout and no
 * BatchNorm (whose batch statistics depend on the per-rank batch), a fixed fp32 plan, and
 * validation data. The same function is the single-process reference (group null) and each
 * rank's run (group set, with the DataParallel callback); the global batch is the same.
 */
import { manualSeed, liveTensors } from '../../src/tensor/index.js';
import type { ProcessGroup } from '../../src/distributed/index.js';
import { DataParallel, Learner, type EpochRecord } from '../../src/train/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './tiny-model.js';

export interface LearnerSpec {
  /** Training images (tinyDataset), and validation images (another tinyDataset). */
  n: number;
  nVal: number;
  batchSize: number;
  epochs: number;
  /** manualSeed before the model is built; ranks add their rank, so only the broadcast can make them agree. */
  initSeed: number;
  /** 'cached': feature extraction, the frozen block's outputs computed once (sharded over the ranks). */
  mode: 'train' | 'cached';
}

export interface LearnerOutcome {
  weights: Record<string, number[]>;
  history: EpochRecord[];
  steps: number;
  startStage: number;
  liveTensorsBefore: number;
  liveTensorsAfter: number;
}

export async function learnTiny(spec: LearnerSpec, group: ProcessGroup | null): Promise<LearnerOutcome> {
  const liveTensorsBefore = liveTensors().count;
  manualSeed(spec.initSeed + (group?.rank ?? 0));
  const model = new TinyNet({ ...TINY_CONFIG });
  const learn = new Learner({
    model,
    train: tinyDataset(spec.n),
    val: tinyDataset(spec.nVal),
    options: { epochs: spec.epochs, batchSize: spec.batchSize, optimizer: 'sgd', lr: 0.2, momentum: 0.9, weightDecay: 0, scheduler: 'none', labelSmoothing: 0, seed: 5 },
    plan: { bf16: false, channelsLast: false, device: 'cpu' },
    callbacks: group === null ? [] : [new DataParallel(group)],
    quiet: true,
  });
  const r = spec.mode === 'cached' ? await learn.featureExtract() : await learn.fit();
  const weights = Object.fromEntries([...model.stateDict()].map(([name, t]) => [name, Array.from(t.toTypedArray() as Float32Array)]));
  const outcome = { weights, history: r.history, steps: learn.iteration, startStage: learn.startStage, liveTensorsBefore, liveTensorsAfter: 0 };
  model.dispose();
  outcome.liveTensorsAfter = liveTensors().count;
  return outcome;
}
