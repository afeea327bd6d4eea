/** The distributed section as markdown, and issue 15's targets. */
import type { TargetCheck } from '../core/report.js';
import type { DistributedFigures } from './types.js';

const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
const n = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : 'n/a');

/** The section's markdown: the allreduce table, then one training table per workload. */
export function renderDistributed(f: DistributedFigures): string {
  const a = f.allreduce;
  const threads = f.threadsPerWorker === 1 ? '1 thread' : `${f.threadsPerWorker} threads`;
  const parts = [
    `Allreduce of ${a.model}'s gradients (${(a.bytes / 1e6).toFixed(1)} MB, float32, 2 processes, Gloo on loopback), ms (median)\n`,
    '| layout | tlcv | torch.distributed | PyTorch / tlcv time |',
    '|---|---|---|---|',
    `| one flat tensor | ${n(a.tlcvFlatMs.median)} | ${n(a.torchFlatMs.median)} | ${x(a.torchFlatMs.median / a.tlcvFlatMs.median)} |`,
    `| its tensors in 25 MB buckets | ${n(a.tlcvBucketsMs.median)} | ${n(a.torchBucketsMs.median)} | ${x(a.torchBucketsMs.median / a.tlcvBucketsMs.median)} |`,
  ];
  for (const t of f.train) {
    parts.push(
      '',
      `Data-parallel training, ${t.model} ${t.inputSize.join('x')}, batch ${t.batch} per process, ${threads} per process, fp32 SGD; images/s over all processes (median); tlcv through the Learner (DataParallel callback), ${t.buckets} gradient bucket(s) reduced during backward\n`,
      '| run | tlcv | PyTorch | tlcv / PyTorch |',
      '|---|---|---|---|',
      `| 1 process | ${n(t.tlcv1.median)} | ${n(t.torch1.median)} | ${x(t.tlcv1.median / t.torch1.median)} |`,
      `| 2 processes (DDP) | ${n(t.tlcv2.median)} | ${n(t.torch2.median)} | ${x(t.tlcv2.median / t.torch2.median)} |`,
      `| 2 processes, tlcv's bare ddp.backward loop (no Learner) | ${n(t.tlcv2Script.median)} | | |`,
      `| scaling, 2 / 1 | ${x(t.tlcv2.median / t.tlcv1.median)} | ${x(t.torch2.median / t.torch1.median)} | |`,
      `| CPU ms per image, 1 process | ${n(t.cpuMsPerImage.tlcv1.median)} | ${n(t.cpuMsPerImage.torch1.median)} | ${x(t.cpuMsPerImage.tlcv1.median / t.cpuMsPerImage.torch1.median)} |`,
      `| CPU ms per image, each of 2 processes | ${n(t.cpuMsPerImage.tlcv2.median)} | ${n(t.cpuMsPerImage.torch2.median)} | ${x(t.cpuMsPerImage.tlcv2.median / t.cpuMsPerImage.torch2.median)} |`,
      `| minor page faults per step, 1 process | ${n(t.faultsPerStep.tlcv1.median)} | ${n(t.faultsPerStep.torch1.median)} | |`,
      `| minor page faults per step, each of 2 processes | ${n(t.faultsPerStep.tlcv2.median)} | ${n(t.faultsPerStep.torch2.median)} | |`,
    );
  }
  return parts.join('\n');
}

/** Issue 15's targets, per training workload (three decimals: 1.695 must not print as the 1.70 it misses). */
export function distributedTargets(f: DistributedFigures): TargetCheck[] {
  const x3 = (v: number): string => `${v.toFixed(3)}x`;
  const out: TargetCheck[] = [];
  for (const t of f.train) {
    const what = `${t.model} ${t.inputSize.join('x')}`;
    const scaling = t.tlcv2.median / t.tlcv1.median;
    const vsTorch = t.tlcv2.median / t.torch2.median;
    out.push(
      { name: `distributed, ${what}: tlcv 2 processes x ${f.threadsPerWorker} thread vs 1 x ${f.threadsPerWorker}, images/s`, target: '>= 1.7x', measured: x3(scaling), met: scaling >= 1.7 },
      { name: `distributed, ${what}: tlcv DDP vs PyTorch DDP, 2 processes`, target: '>= 1.0x', measured: x3(vsTorch), met: vsTorch >= 1.0 },
    );
  }
  const allreduce = f.allreduce.torchFlatMs.median / f.allreduce.tlcvFlatMs.median;
  out.push({ name: `distributed: allreduce of ${(f.allreduce.bytes / 1e6).toFixed(0)} MB, PyTorch time / tlcv time`, target: 'report', measured: x3(allreduce), met: null });
  return out;
}
