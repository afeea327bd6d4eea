/**
 * tlcv's side of `tlcv bench --only distributed`: one worker of a run that tlcv's launcher
 * starts (RANK, WORLD_SIZE, ... in the environment), running the jobs given as JSON in argv[2]
 * in order; rank 0 prints the results as one marked line. peers/dist_bench.py is PyTorch's
 * side, run by torch.distributed.run with the same jobs.
 */
import { createModel } from '../models/index.js';
import { DistributedDataParallel, initProcessGroup, type ProcessGroup } from '../distributed/index.js';
import { SGD } from '../optim/index.js';
import { F, manualSeed, ones, randint, randn, tidy, type Tensor } from '../tensor/index.js';
import { DIST_MARK, type DistJob, type DistJobResult } from './distributed.js';

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

async function trainJob(group: ProcessGroup, job: Extract<DistJob, { kind: 'train' }>): Promise<DistJobResult> {
  manualSeed(job.seed);
  const [c, h, w] = job.inputSize;
  const model = createModel(job.model, { numClasses: 10, inChannels: c, inputSize: [h, w] });
  model.train();
  const ddp = group.worldSize > 1 ? await DistributedDataParallel.create(model, group) : null;
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = randn([job.batch, c, h, w]);
  const y = randint(0, 10, [job.batch]);
  let t0 = 0;
  for (let i = 0; i < job.warmup + job.iters; i += 1) {
    if (i === job.warmup) {
      await group.barrier();
      t0 = performance.now();
    }
    await ddp?.syncBuffers();
    const loss = tidy(() => F.crossEntropy(model.forward(x), y));
    if (ddp !== null && job.mode === 'overlap') {
      await ddp.backward(loss);
    } else {
      loss.backward();
      await ddp?.allreduceGradients();
    }
    opt.step();
    opt.zeroGrad();
    loss.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const buckets = ddp?.buckets ?? 0;
  ddp?.dispose();
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return { kind: 'train', seconds, images: group.worldSize * job.batch * job.iters, buckets };
}

const jobs = JSON.parse(process.argv[2]!) as DistJob[];
try {
  const group = await initProcessGroup();
  const results: DistJobResult[] = [];
  for (const job of jobs) results.push(job.kind === 'allreduce' ? await allreduceJob(group, job) : await trainJob(group, job));
  if (group.isMain) console.log(`${DIST_MARK}${JSON.stringify(results)}`);
  group.destroy();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
