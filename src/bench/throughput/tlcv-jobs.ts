/**
 * tlcv's side of the throughput rows: train and inference steps at a fixed batch, run in a tlcv
 * worker. The train step is the Learner's (src/train/learner.ts): the plan's input layout, the
 * forward under the plan's autocast in its own tidy, fp32 loss, backward, AdamW step, zeroGrad.
 * The default (auto) inference row runs what `tlcv predict` and `serve` run: the auto engine's
 * choice for this model and batch, libtorch's folded plan or onnxruntime on the exported graph.
 */
import { F, fromTypedArray, inferenceMode, keep, manualSeed, tidy, type Tensor } from '../../tensor/index.js';
import { createModel, type ClassifierModel } from '../../models/index.js';
import { AdamW } from '../../optim/index.js';
import { foldedForInference, type FoldedInference } from '../../nn/index.js';
import { describePlan, tunePlan, withPlan, type ExecutionPlan } from '../../execution/index.js';
import { InferenceEngine } from '../../deploy/index.js';
import { readImageSet } from '../core/data-files.js';
import { timeSteps } from '../core/jobs.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { ThroughputJob, ThroughputResult } from './types.js';

/** uint8 NCHW bytes to the normalised float batch, (x/255 - 0.5) / 0.5 as the peer does. */
function normalisedBatch(job: { images: string; labels: string; inputSize: [number, number, number]; batch: number }): { x: Tensor; y: Tensor } {
  const ds = readImageSet({ images: job.images, labels: job.labels, inputSize: job.inputSize });
  const per = job.inputSize[0] * job.inputSize[1] * job.inputSize[2];
  const bytes = ds.images.subarray(0, job.batch * per);
  return tidy(() => ({
    x: keep(fromTypedArray(bytes, [job.batch, ...job.inputSize]).float().div(255).sub(0.5).div(0.5)),
    y: keep(fromTypedArray(ds.labels.subarray(0, job.batch), [job.batch]).long()),
  }));
}

export interface Runner {
  step: () => void;
  plan: ExecutionPlan;
  /** The plan as the report shows it. */
  describe: string;
  dispose: () => void;
  /** Inference rows: the model, its input batch and the libtorch forward of a batch (the engine's trial). */
  infer?: { model: ClassifierModel; x: Tensor; forward: (t: Tensor) => void };
}

/** A warm step of one throughput job (the roofline section profiles the same step). */
export function makeRunner(job: ThroughputJob): Runner {
  manualSeed(0);
  const model: ClassifierModel = createModel(job.model, { numClasses: job.numClasses, inChannels: job.inputSize[0], inputSize: [job.inputSize[1], job.inputSize[2]] });
  const { x, y } = normalisedBatch(job);
  // The default rows time the plans as training does (src/execution/plan-tuning.ts); fixed rows take theirs.
  const plan = tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: job.mode === 'train', precision: job.precision, channelsLast: job.channelsLast, device: 'cpu' });
  if (plan.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const input = (): Tensor => (plan.channelsLast ? x.contiguous('channelsLast') : x);
  let opt: AdamW | null = null;
  let folded: FoldedInference | null = null;
  let step: () => void;
  let inferOn: ((t: Tensor) => void) | null = null;
  if (job.mode === 'train') {
    model.train();
    const o = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
    opt = o;
    step = () =>
      tidy(() => {
        // As the trainer does: the forward's intermediates go before backward.
        const loss = tidy(() => F.crossEntropy(withPlan(plan, () => model.forward(input())).float(), y));
        loss.backward();
        o.step();
        o.zeroGrad();
        loss.item();
      });
  } else {
    model.eval();
    // tlcv's default inference runs with conv+BatchNorm folded (src/nn/folded-inference.ts); the
    // fp32 row stays unfolded, the same kernels as PyTorch's fp32.
    if (job.name === 'auto') folded = foldedForInference(model, { dtype: plan.bf16 ? 'bfloat16' : 'float32', memoryFormat: plan.channelsLast ? 'channelsLast' : 'contiguous', sample: x.narrow(0, 0, 1) });
    const forward = folded ?? model;
    step = () => inferenceMode(() => tidy(() => void withPlan(plan, () => forward.forward(input())).float()));
    inferOn = (t) => void withPlan(plan, () => forward.forward(plan.channelsLast ? t.contiguous('channelsLast') : t)).float();
  }
  for (let i = 0; i < job.warmup; i += 1) step();
  return {
    step,
    plan,
    describe: folded !== null && folded.pairs.length > 0 ? describePlan(plan).replace(/( on \S+)$/, ', conv+BN folded$1') : describePlan(plan),
    ...(inferOn === null ? {} : { infer: { model, x, forward: inferOn } }),
    dispose: () => {
      folded?.dispose();
      opt?.dispose();
      model.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

// One model config at a time: settings and modes of the current config stay warm between
// repetitions; moving to another config frees them.
const runners = new Map<string, Runner>();
let currentConfig = '';

/**
 * The auto inference row as `tlcv predict` runs it: the auto engine times libtorch's plan against
 * onnxruntime on this batch (or reads its cached choice) and the row runs the winner.
 */
async function withAutoEngine(job: ThroughputJob, r: Runner): Promise<Runner> {
  if (job.mode !== 'infer' || job.name !== 'auto' || r.infer === undefined) return r;
  const { model, x, forward } = r.infer;
  const engine = new InferenceEngine({ engine: 'auto' });
  const ort = await engine.evaluationForward(model, r.plan, async () => x, forward, () => {});
  if (ort === null) return { ...r, describe: `${r.describe}; auto engine: libtorch` };
  const step = (): void => inferenceMode(() => tidy(() => void ort(x)));
  for (let i = 0; i < job.warmup; i += 1) step();
  return {
    ...r,
    step,
    describe: 'onnxruntime (auto engine), fp32',
    dispose: () => {
      engine.dispose();
      r.dispose();
    },
  };
}

export async function throughput(job: ThroughputJob): Promise<ThroughputResult> {
  const config = `${job.model}:${job.inputSize.join('x')}:${job.batch}`;
  if (config !== currentConfig) {
    for (const r of runners.values()) r.dispose();
    runners.clear();
    currentConfig = config;
  }
  const key = `${job.name}:${job.mode}`;
  let r = runners.get(key);
  if (r === undefined) {
    r = await withAutoEngine(job, makeRunner(job));
    runners.set(key, r);
  }
  const cpu0 = process.cpuUsage();
  const { runs, seconds } = timeSteps(r.step, job);
  const cpu = process.cpuUsage(cpu0);
  return { images: runs * job.batch, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, plan: r.describe };
}

export const jobs: JobHandlers = {
  throughput: (j: Job) => throughput(j as unknown as ThroughputJob),
};
