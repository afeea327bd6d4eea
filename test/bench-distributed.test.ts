// `tlcv bench --only distributed` on a tiny config: tlcv's launcher (training through the
// Learner with DataParallel, and a bare ddp.backward loop) and PyTorch's torch.distributed.run
// both run, and the figures, ratios and targets follow from what was measured. No speed is asserted: the machine is shared, and speed belongs to `tlcv bench`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, figure, median, renderMarkdown, type BenchReport } from '../src/bench/index.js';
import { runDistributedBench } from '../src/bench/distributed/run.js';
import type { DistributedBenchConfig } from '../src/bench/distributed/types.js';
import { createModel } from '../src/models/index.js';
import { PEER_PYTHON } from './helpers/peer.js';

const tiny: DistributedBenchConfig = {
  threadsPerWorker: 1,
  reps: 1,
  allreduce: { model: 'resnet18', warmup: 1, reps: 2 },
  train: [{ model: 'mobilenet_v2_035', inputSize: [3, 32, 32], batch: 4, warmup: 1, iters: 2 }],
};

test('the distributed section runs tlcv and PyTorch DDP side by side, and reports what it measured', async () => {
  const log: string[] = [];
  const f = await runDistributedBench(tiny, { python: PEER_PYTHON, log: (l) => log.push(l) });
  assert.equal(log.length, 4, `one line per run:\n${log.join('\n')}`);
  const resnet = createModel('resnet18', { numClasses: 1000 });
  assert.equal(f.allreduce.bytes, 4 * resnet.numParameters(), "ResNet-18's gradients, 47 MB");
  resnet.dispose();
  for (const [name, fig] of Object.entries(f.allreduce)) {
    if (typeof fig !== 'object') continue;
    assert.equal(fig.samples.length, tiny.allreduce.reps, `${name}: one sample per timed allreduce`);
    assert.deepEqual(fig, figure(fig.samples));
    fig.samples.forEach((s) => assert.ok(s > 0, `${name} sample ${s}`));
  }
  assert.equal(f.train.length, 1);
  const row = f.train[0]!;
  for (const key of ['tlcv1', 'tlcv2', 'tlcv2Script', 'torch1', 'torch2'] as const) {
    const fig = row[key];
    assert.equal(fig.samples.length, tiny.reps, key);
    assert.ok(fig.median > 0 && Number.isFinite(fig.median), `${key}: ${fig.median} images/s`);
    assert.equal(fig.median, median(fig.samples));
  }
  for (const key of ['tlcv1', 'tlcv2', 'torch1', 'torch2'] as const) {
    // Every side used CPU time to train, and measured it over the timed steps only.
    const cpu = row.cpuMsPerImage[key];
    assert.equal(cpu.samples.length, tiny.reps, `cpu ${key}`);
    assert.ok(cpu.median > 0 && Number.isFinite(cpu.median), `cpu ${key}: ${cpu.median} ms per image`);
    assert.ok(row.faultsPerStep[key].median >= 0, `faults ${key}`);
  }
  assert.ok(row.buckets >= 1, 'the reducer made its buckets');

  const report = { throughput: [], transfer: [], precision: null, memory: null, gemm: null, tfjs: null, distributed: f } as unknown as BenchReport;
  const targets = checkTargets(report);
  const scaling = targets.find((t) => t.name.startsWith('distributed, mobilenet_v2_035 3x32x32: tlcv 2 processes'));
  assert.equal(scaling?.measured, `${(row.tlcv2.median / row.tlcv1.median).toFixed(3)}x`);
  assert.equal(scaling?.met, row.tlcv2.median / row.tlcv1.median >= 1.7);
  const md = renderMarkdown({ ...report, command: 'test', seconds: 1, machine: { cpu: 'cpu', cores: 2, threads: 1, loadAverageStart: [0], loadAverageEnd: [0], node: 'v', torch: null, ompWaitPolicy: null, tlcvAutoPlan: null }, config: {}, errors: {}, targets });
  assert.match(md, /Allreduce of resnet18's gradients \(46\.8 MB/);
  assert.match(md, /\| 2 processes \(DDP\) \| [\d.]+ \| [\d.]+ \| [\d.]+x \|/);
  assert.match(md, /\| CPU ms per image, each of 2 processes \| [\d.]+ \| [\d.]+ \| [\d.]+x \|/);
});
