/**
 * tlcv's side of `tlcv bench --only distributed`: one worker of a run that tlcv's launcher
 * starts (RANK, WORLD_SIZE, ... in the environment), running the jobs given as JSON in argv[2]
 * in order; rank 0 prints the results as one marked line. peers/dist_bench.py is PyTorch's
 * side, run by torch.distributed.run with the same jobs.
 *
 * Training goes through the Learner with the DataParallel callback, as `tlcv pretrain --nproc`
 * runs it (loop 'learner'), or through phase 1's script loop around ddp.backward (loop
 * 'script'), so the table shows what the Learner's own work per step costs. Each worker also
 * reports the CPU time its process spent (every thread: compute, Gloo's, libuv's) and its
 * minor page faults over the timed steps: on a machine shared with other work these vary far
 * less than wall time, and say where two sides differ.
 */
import { createModel, type ClassifierModel } from '../../models/index.js';
import { DistributedDataParallel, initProcessGroup, type ProcessGroup } from '../../distributed/index.js';
import { SGD } from '../../optim/index.js';
import { F, manualSeed, ones, randint, randn, tidy, type Tensor } from '../../tensor/index.js';
import { DataParallel, Learner, type BatchSource, type Callback } from '../../train/index.js';
import { DIST_MARK, type DistJob, type DistJobResult } from './types.js';

type TrainJob = Extract<DistJob, { kind: 'train' }>;

async function allreduceJob(group: ProcessGroup, job: Extract<DistJob, { kind: 'allreduce' }>): Promise<DistJobResult> {
  // ImageNet's 1000 classes: ResNet-18's 11.7 M parameters, 47 MB of float32 gradients.
  const model = createModel(job.model, { numClasses: 1000 });
  const shapes = model.parameters().map((p) => p.shape);
  model.dispose();
  const elements = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  const tensors: Tensor[] = job.layout === 'flat' ? [ones([elements])] : shapes.map((s) => ones(s));
  const seconds: number[] = [];
  for (let i = 0; i < job.warmup + job.reps; i += 1) {
    await group.barrier();
    const t0 = performance.now();
    await group.allreduce(tensors, { bucketBytes: job.bucketBytes });
    if (i >= job.warmup) seconds.push((performance.now() - t0) / 1000);
  }
  // Summed `warmup + reps` times from all ones: a wrong sum would show here, not only in the timing.
  const expected = group.worldSize ** (job.warmup + job.reps);
  const got = Number(tensors[tensors.length - 1]!.toTypedArray()[0]);
  for (const t of tensors) t.dispose();
  if (got !== expected) throw new Error(`allreduce gave ${got}, expected ${expected}`);
  return { kind: 'allreduce', seconds, bytes: elements * 4 };
}

/** Wall time, CPU time of the whole process and minor page faults, from `start()` to `stop()`. */
function meter(): { start(): void; stop(): void; result(): { seconds: number; cpuSeconds: number; faults: number } } {
  let t = 0;
  let cpu = process.cpuUsage();
  let faults = 0;
  const out = { seconds: 0, cpuSeconds: 0, faults: 0 };
  return {
    start: () => {
      t = performance.now();
      cpu = process.cpuUsage();
      faults = process.resourceUsage().minorPageFault;
    },
    stop: () => {
      const used = process.cpuUsage(cpu);
      Object.assign(out, { seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6, faults: process.resourceUsage().minorPageFault - faults });
    },
    result: () => out,
  };
}

function benchModel(job: TrainJob): ClassifierModel {
  manualSeed(job.seed);
  const [c, h, w] = job.inputSize;
  return createModel(job.model, { numClasses: 10, inChannels: c, inputSize: [h, w] });
}

/** The same batch every step (PyTorch's side does the same), as a fresh pair the loop may dispose. */
function repeatedBatch(x: Tensor, y: Tensor, steps: number): BatchSource {
  return {
    length: steps,
    setEpoch: () => undefined,
    *[Symbol.iterator]() {
      for (let i = 0; i < steps; i += 1) yield { x: x.clone(), y: y.clone(), indices: new Int32Array(0) };
    },
  };
}

async function learnerJob(group: ProcessGroup, job: TrainJob): Promise<DistJobResult> {
  const model = benchModel(job);
  const [c, h, w] = job.inputSize;
  const x = randn([job.batch, c, h, w]);
  const y = randint(0, 10, [job.batch]);
  const steps = job.warmup + job.iters;
  const m = meter();
  // After the warm-up steps and after the last; each step's loss agreement keeps the ranks in step.
  const timer: Callback = {
    afterBatch: (learn) => {
      if (learn.iteration === job.warmup) m.start();
      if (learn.iteration === steps) m.stop();
    },
  };
  let buckets = 0;
  const dp = group.worldSize > 1 ? new DataParallel(group) : null;
  const count: Callback = { order: 99, afterFit: () => void (buckets = dp?.ddp?.buckets ?? 0) };
  const learn = new Learner({
    model,
    train: repeatedBatch(x, y, steps),
    options: { epochs: 1, batchSize: job.batch * group.worldSize, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, scheduler: 'none', labelSmoothing: 0, seed: job.seed },
    plan: { bf16: false, channelsLast: false, device: 'cpu' },
    callbacks: [timer, count, ...(dp === null ? [] : [dp])],
    quiet: true,
  });
  await learn.fit();
  model.dispose();
  x.dispose();
  y.dispose();
  return { kind: 'train', ...m.result(), images: group.worldSize * job.batch * job.iters, steps: job.iters, buckets };
}

async function scriptJob(group: ProcessGroup, job: TrainJob): Promise<DistJobResult> {
  const model = benchModel(job);
  model.train();
  const ddp = group.worldSize > 1 ? await DistributedDataParallel.create(model, group) : null;
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const [c, h, w] = job.inputSize;
  const x = randn([job.batch, c, h, w]);
  const y = randint(0, 10, [job.batch]);
  const m = meter();
  for (let i = 0; i < job.warmup + job.iters; i += 1) {
    if (i === job.warmup) {
      await group.barrier();
      m.start();
    }
    await ddp?.syncBuffers();
    const loss = tidy(() => F.crossEntropy(model.forward(x), y));
    if (ddp !== null) await ddp.backward(loss);
    else loss.backward();
    opt.step();
    opt.zeroGrad();
    loss.dispose();
  }
  m.stop();
  const buckets = ddp?.buckets ?? 0;
  ddp?.dispose();
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return { kind: 'train', ...m.result(), images: group.worldSize * job.batch * job.iters, steps: job.iters, buckets };
}

const jobs = JSON.parse(process.argv[2]!) as DistJob[];
try {
  const group = await initProcessGroup();
  const results: DistJobResult[] = [];
  for (const job of jobs) results.push(job.kind === 'allreduce' ? await allreduceJob(group, job) : job.loop === 'learner' ? await learnerJob(group, job) : await scriptJob(group, job));
  if (group.isMain) console.log(`${DIST_MARK}${JSON.stringify(results)}`);
  group.destroy();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
