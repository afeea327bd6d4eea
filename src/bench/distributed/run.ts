/**
 * The distributed section (`tlcv bench --only distributed`): data-parallel training against
 * PyTorch's own DDP over Gloo (torch.distributed.run), on this machine, in the same run:
 * - allreduce of ResNet-18's gradients (47 MB), as one flat tensor and as its 62 tensors in
 *   DDP's 25 MB buckets, tlcv against torch.distributed;
 * - training images/s: 1 process against 2 (weak scaling: each process keeps the batch), tlcv
 *   and PyTorch, with the same model, batch and threads per process. tlcv trains through the
 *   Learner with the DataParallel callback (what `tlcv pretrain --nproc` runs), and through a
 *   bare ddp.backward loop, so the Learner's own cost per step shows;
 * - each side's CPU time per image and minor page faults per step (rank 0's process, every
 *   thread): on a shared machine wall time moves with the load elsewhere, CPU time far less, so
 *   these say where the sides differ when the images/s cannot.
 * Every run starts fresh processes (tlcv's launcher, torchrun); the sides alternate, and the
 * order flips every repetition, so load from elsewhere falls on both.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, launchWorkers, resolveLaunch } from '../../distributed/index.js';
import { figure, type Figure } from '../core/report.js';
import { peerScript } from '../core/workers.js';
import { DIST_MARK, type DistJob, type DistJobResult, type DistributedBenchConfig, type DistributedFigures } from './types.js';

const BUCKET_BYTES = 25 * 1024 * 1024;

function parseResults(stdout: string[], who: string, stderr: string): DistJobResult[] {
  const line = stdout.find((l) => l.startsWith(DIST_MARK));
  if (line === undefined) throw new Error(`${who} gave no result: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line.slice(DIST_MARK.length)) as DistJobResult[];
}

async function runTlcv(nproc: number, threads: number, jobs: DistJob[]): Promise<DistJobResult[]> {
  const out: string[] = [];
  let err = '';
  const r = await launchWorkers({
    plan: resolveLaunch({ nproc }, {}),
    args: [fileURLToPath(new URL('./worker.js', import.meta.url)), JSON.stringify(jobs)],
    threads: threads * nproc,
    env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
    onLine: (rank, stream, line) => {
      if (stream === 'stdout' && rank === 0) out.push(line);
      else if (stream === 'stderr') err += `${line}\n`;
    },
  });
  if (!r.ok) throw new Error(`tlcv with ${nproc} processes: ${r.summary}`);
  return parseResults(out, `tlcv with ${nproc} processes`, err);
}

async function runTorch(python: string, nproc: number, threads: number, jobs: DistJob[]): Promise<DistJobResult[]> {
  const port = await freePort();
  // --redirects/--tee: Debian's torchrun 1.13 on Python 3.11 cannot parse their default "0"
  // (Std.NONE is no longer iterated in a Flag enum); stderr to its log and the console is the
  // nearest setting that parses, and stdout stays ours.
  const args = ['-m', 'torch.distributed.run', '--redirects=2', '--tee=2', `--nproc_per_node=${nproc}`, '--master_addr=127.0.0.1', `--master_port=${port}`, peerScript('dist_bench.py'), JSON.stringify(jobs)];
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    let e = '';
    child.stdout.on('data', (d: Buffer) => (o += d.toString()));
    child.stderr.on('data', (d: Buffer) => (e = (e + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: o, stderr: e }));
  });
  if (code !== 0) throw new Error(`PyTorch (torch.distributed.run, ${nproc} processes) exited with ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return parseResults(stdout.split('\n'), `PyTorch with ${nproc} processes`, stderr);
}

type Side = 'tlcv1' | 'tlcv2' | 'tlcv2Script' | 'torch1' | 'torch2';
type CpuSide = Exclude<Side, 'tlcv2Script'>;
interface TrainSamples {
  rate: Record<Side, number[]>;
  cpu: Record<CpuSide, number[]>;
  faults: Record<CpuSide, number[]>;
}

const emptySamples = (): TrainSamples => ({
  rate: { tlcv1: [], tlcv2: [], tlcv2Script: [], torch1: [], torch2: [] },
  cpu: { tlcv1: [], tlcv2: [], torch1: [], torch2: [] },
  faults: { tlcv1: [], tlcv2: [], torch1: [], torch2: [] },
});

/**
 * Runs the section and returns its figures.
 *
 * @example
 * const f = await runDistributedBench(presetConfig('quick', 2).distributed!, { python: '/usr/bin/python3', log: console.error });
 */
export async function runDistributedBench(cfg: DistributedBenchConfig, o: { python: string; log: (line: string) => void }): Promise<DistributedFigures> {
  const a = cfg.allreduce;
  const allreduce: DistJob[] = (['flat', 'buckets'] as const).map((layout) => ({ kind: 'allreduce', model: a.model, layout, bucketBytes: BUCKET_BYTES, warmup: a.warmup, reps: a.reps }));
  const train = (loop: 'learner' | 'script'): DistJob[] => cfg.train.map((t) => ({ kind: 'train', model: t.model, inputSize: t.inputSize, batch: t.batch, warmup: t.warmup, iters: t.iters, loop, seed: 0 }));
  const ms = { tlcvFlat: [] as number[], torchFlat: [] as number[], tlcvBuckets: [] as number[], torchBuckets: [] as number[] };
  const samples = cfg.train.map(emptySamples);
  let bytes = 0;
  const buckets = cfg.train.map(() => 0);
  const times = (r: DistJobResult | undefined): number[] => (r?.kind === 'allreduce' ? r.seconds.map((s) => s * 1000) : []);
  // Results come back in job order: the two allreduce layouts first where they ran, then one per training row and loop.
  const record = (r: DistJobResult[], from: number, side: Side): void =>
    cfg.train.forEach((_, i) => {
      const t = r[from + i];
      if (t?.kind !== 'train') return;
      const s = samples[i]!;
      s.rate[side].push(t.images / t.seconds);
      if (side === 'tlcv2Script') return;
      const perProcess = t.images / (side.endsWith('2') ? 2 : 1);
      s.cpu[side].push((t.cpuSeconds * 1000) / perProcess);
      s.faults[side].push(t.faults / t.steps);
      if (t.buckets > 0) buckets[i] = t.buckets;
    });
  const rows = cfg.train.length;
  const runs: [string, () => Promise<void>][] = [
    [
      'tlcv, 2 processes',
      async () => {
        const r = await runTlcv(2, cfg.threadsPerWorker, [...allreduce, ...train('learner'), ...train('script')]);
        ms.tlcvFlat.push(...times(r[0]));
        ms.tlcvBuckets.push(...times(r[1]));
        record(r, 2, 'tlcv2');
        record(r, 2 + rows, 'tlcv2Script');
        bytes = r[0]?.kind === 'allreduce' ? r[0].bytes : bytes;
      },
    ],
    [
      'PyTorch DDP, 2 processes',
      async () => {
        const r = await runTorch(o.python, 2, cfg.threadsPerWorker, [...allreduce, ...train('script')]);
        ms.torchFlat.push(...times(r[0]));
        ms.torchBuckets.push(...times(r[1]));
        record(r, 2, 'torch2');
      },
    ],
    ['tlcv, 1 process', async () => record(await runTlcv(1, cfg.threadsPerWorker, train('learner')), 0, 'tlcv1')],
    ['PyTorch, 1 process', async () => record(await runTorch(o.python, 1, cfg.threadsPerWorker, train('script')), 0, 'torch1')],
  ];
  for (let rep = 0; rep < cfg.reps; rep += 1) {
    for (const [name, run] of rep % 2 === 0 ? runs : [...runs].reverse()) {
      const t0 = performance.now();
      await run();
      o.log(`  distributed: ${name} (repetition ${rep + 1}) took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  const figures = <K extends string>(r: Record<K, number[]>): Record<K, Figure> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, figure(v as number[])])) as Record<K, Figure>;
  return {
    threadsPerWorker: cfg.threadsPerWorker,
    allreduce: { model: a.model, bytes, tlcvFlatMs: figure(ms.tlcvFlat), torchFlatMs: figure(ms.torchFlat), tlcvBucketsMs: figure(ms.tlcvBuckets), torchBucketsMs: figure(ms.torchBuckets) },
    train: cfg.train.map((t, i) => {
      const s = samples[i]!;
      return { model: t.model, inputSize: t.inputSize, batch: t.batch, buckets: buckets[i]!, ...figures(s.rate), cpuMsPerImage: figures(s.cpu), faultsPerStep: figures(s.faults) };
    }),
  };
}
