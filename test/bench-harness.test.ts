// `tlcv bench` on a tiny config: every section runs against the real PyTorch peer and TF.js,
// and the report's figures and ratios must follow from the measured samples. No timing is
// asserted: the machine is shared, and speed belongs to `tlcv bench` itself, not to tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTargets, figure, median, renderMarkdown, rssGrowth, runBench, throughputRatios, type BenchConfig, type BenchReport } from '../src/bench/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { readMeasuredSpeeds } from '../src/models/index.js';
import { runCli } from './helpers/cli.js';

const once = { warmup: 1, iters: 1, minSeconds: 0, maxIters: 1 };
const tiny: BenchConfig = {
  threads: 1,
  reps: 2,
  seed: 0,
  throughput: [{ model: 'seed-cnn', inputSize: [1, 28, 28], batch: 4, numClasses: 10, timing: once }],
  gemm: { n: 64, timing: once },
  transfer: { trainImages: 60, testImages: 40, size: 32, epochs: 2, batch: 16, lr: 0.01, momentum: 0.9, stepSize: 1, gamma: 0.5, fineTune: true },
  precision: { trainImages: 60, testImages: 40, epochs: 1, batch: 16 },
  memory: { model: 'seed-cnn', inputSize: [1, 28, 28], images: 16, epochs: 3, batch: 8, atBudget: { model: 'seed-cnn', inputSize: [3, 64, 64], images: 32, maxMemory: 4 * 2 ** 30 } },
  tfjs: { batch: 1, warmup: 0, iters: 1 },
};

const positive = (v: number, what: string): void => assert.ok(Number.isFinite(v) && v > 0, `${what} = ${v}`);

test('median and ratios come from the samples', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const r = throughputRatios({ auto: figure([30]), fp32: figure([10]) }, { fp32: figure([12]), 'bf16+cl': figure([20]), bf16: figure([NaN]) });
  assert.equal(r.autoVsPeerDefault, 30 / 12);
  assert.equal(r.autoVsPeerBest, 30 / 20);
  assert.equal(r.peerBestSetting, 'bf16+cl');
  assert.equal(r.fp32VsPeerFp32, 10 / 12);
  assert.ok(Number.isNaN(throughputRatios({ auto: figure([1]) }, {}).autoVsPeerBest));
  assert.equal(rssGrowth([100, 200, 210]), 210 / 200 - 1);
});

test('a tiny bench runs every section and its report follows from what it measured', async () => {
  const live = liveTensors().count;
  // The throughput rows' speeds go to the cache that `tlcv models` reads: a temporary one here.
  const cache = mkdtempSync(join(tmpdir(), 'tlcv-bench-cache-'));
  const previous = process.env.TLCV_CACHE;
  process.env.TLCV_CACHE = cache;
  let r: BenchReport;
  try {
    r = await runBench({ config: tiny, command: 'test' });
  } finally {
    if (previous === undefined) delete process.env.TLCV_CACHE;
    else process.env.TLCV_CACHE = previous;
  }
  const speeds = readMeasuredSpeeds(join(cache, 'models'));
  rmSync(cache, { recursive: true, force: true });
  assert.deepEqual(speeds.map((s) => `${s.model} ${s.mode}`).sort(), ['seed-cnn infer', 'seed-cnn train']);
  for (const s of speeds) assert.equal(s.imagesPerSecond, r.throughput.find((t) => t.mode === s.mode)!.tlcv.auto!.median, 'the figure kept is the row\'s median');
  assert.deepEqual(r.errors, {});
  assert.equal(liveTensors().count, live, 'the harness process keeps no tensors');
  assert.equal(r.machine.threads, 1);
  assert.match(r.machine.ompWaitPolicy ?? '', /tlcv PASSIVE, PyTorch PASSIVE/);

  assert.equal(r.throughput.length, 2);
  for (const row of r.throughput) {
    assert.deepEqual(Object.keys(row.tlcv).sort(), ['auto', 'fp32']);
    assert.deepEqual(Object.keys(row.peer).sort(), ['bf16', 'bf16+cl', 'fp32', 'fp32+cl']);
    for (const f of [...Object.values(row.tlcv), ...Object.values(row.peer)]) {
      assert.equal(f.samples.length, tiny.reps);
      f.samples.forEach((s) => positive(s, `${row.model} ${row.mode} sample`));
      assert.equal(f.median, median(f.samples));
      assert.equal(f.best, Math.max(...f.samples));
    }
    assert.deepEqual(row.ratios, throughputRatios(row.tlcv, row.peer));
    assert.equal(row.ratios.autoVsPeerDefault, row.tlcv.auto!.median / row.peer.fp32!.median);
    positive(row.forwardFlopsPerImage ?? NaN, 'forward FLOPs');
  }

  const g = r.gemm!;
  for (const d of ['float32', 'bfloat16']) {
    positive(g.tlcv[d]!.median, `tlcv ${d} GFLOP/s`);
    positive(g.peer[d]!.median, `PyTorch ${d} GFLOP/s`);
  }

  assert.equal(r.transfer.length, 2);
  for (const t of r.transfer) {
    positive(t.tlcv.seconds, 'tlcv seconds');
    positive(t.peer.seconds, 'PyTorch seconds');
    assert.equal(t.timeRatio, t.peer.seconds / t.tlcv.seconds);
    assert.equal(t.accuracyDeltaPoints, (t.tlcv.testAcc - t.peer.testAcc) * 100);
    assert.equal(t.tlcv.history.length, tiny.transfer!.epochs);
    assert.equal(t.peer.history.length, tiny.transfer!.epochs);
    assert.equal(t.tlcv.testAcc, t.tlcv.history.at(-1));
    assert.equal(t.testImages, tiny.transfer!.testImages);
  }

  const p = r.precision!;
  assert.equal(p.deltaPoints, (p.auto - p.fp32) * 100);
  for (const a of [p.auto, p.fp32]) assert.ok(a >= 0 && a <= 1);

  const m = r.memory!;
  for (const side of [m.tlcv, m.peer]) {
    assert.equal(side.rssPerEpoch.length, tiny.memory!.epochs);
    positive(side.peakRss, 'peak RSS');
    assert.ok(side.peakRss >= Math.max(...side.rssPerEpoch) * 0.99, 'the peak is at least every sampled RSS');
    assert.equal(side.growth, rssGrowth(side.rssPerEpoch));
  }
  assert.equal(m.peakRatio, m.tlcv.peakRss / m.peer.peakRss);
  // Issue 22's row: the batch a run without --batch-size chose (at most an eighth of 32 images), both sides at it.
  const b = m.atBudget!;
  assert.ok(Number.isInteger(b.batch) && b.batch >= 1 && b.batch <= 4, `batch ${b.batch}`);
  positive(b.tlcvPeak, 'peak RSS at the chosen batch');
  positive(b.peerPeak, "PyTorch's peak RSS at the same batch");
  assert.equal(b.peakRatio, b.tlcvPeak / b.peerPeak);
  assert.equal(r.targets.find((t) => t.name.startsWith('22. peak RSS'))!.met, b.tlcvPeak <= b.maxMemory);

  positive(r.tfjs!.imagesPerSec, 'TF.js images/s');
  assert.equal(r.tfjs!.tlcvAutoImagesPerSec, r.throughput.find((t) => t.mode === 'train')!.tlcv.auto!.median);

  assert.deepEqual(r.targets, checkTargets(r));
  const gemmTarget = r.targets.find((t) => t.name.includes('float32'))!;
  assert.equal(gemmTarget.met, g.tlcv.float32!.best / g.peer.float32!.best >= 0.95);
  const md = renderMarkdown(r);
  assert.match(md, /\| seed-cnn \| 1x28x28 \| 4 \| train \|/);
  assert.match(md, /Targets \(issues 7, [\d, and]+22, where their sections ran\)/);
});

test('--cpu-time: each worker reports its CPU seconds, and the rows are rates per CPU second', async () => {
  const { throughput } = await import('../src/bench/throughput/tlcv-jobs.js');
  const { syntheticImages, writeImageSet } = await import('../src/bench/core/data-files.js');
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-bench-cpu-'));
  try {
    const data = writeImageSet(dir, 'x', syntheticImages(4, [1, 28, 28], 10, 0));
    const own = await throughput({ kind: 'throughput', name: 'fp32', precision: 'fp32', bf16: false, channelsLast: false, mode: 'infer', model: 'seed-cnn', inputSize: [1, 28, 28], numClasses: 10, batch: 4, images: data.images, labels: data.labels, warmup: 1, iters: 3, minSeconds: 0.2, maxIters: 1000 });
    positive(own.cpuSeconds, 'tlcv CPU seconds');
    // One thread and the main thread's bookkeeping: CPU time cannot run far ahead of the wall clock.
    assert.ok(own.cpuSeconds <= 2 * own.seconds + 0.05, `CPU ${own.cpuSeconds} s over ${own.seconds} s of wall time`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = await runBench({ config: { ...tiny, reps: 1, cpuTime: true, gemm: null, transfer: null, precision: null, memory: null, tfjs: null }, command: 'test' });
  assert.deepEqual(r.errors, {});
  for (const row of r.throughput) for (const f of [...Object.values(row.tlcv), ...Object.values(row.peer)]) positive(f.median, `${row.mode} rate per CPU second`);
  assert.match(renderMarkdown(r), /throughput, images per CPU second/);
});

test('the CLI writes bench.json and prints the table; a bad --only or a missing peer is a user error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-bench-test-'));
  try {
    const out = join(dir, 'bench.json');
    const ok = runCli(['bench', '--only', 'gemm', '--quick', '--threads', '1', '--reps', '1', '--out', out]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    assert.equal(report.throughput.length, 0);
    assert.equal(report.gemm!.n, 2048);
    assert.match(ok.stdout, /\| float32 \|/);
    assert.match(ok.stdout, /Machine: .+, \d+ cores; 1 threads per side; load average/);

    const bad = runCli(['bench', '--only', 'throughput,speed', '--out', join(dir, 'never.json')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--only: expected sections from throughput,[a-z,]+, got "speed"/);
    assert.equal(existsSync(join(dir, 'never.json')), false);

    const noPeer = runCli(['bench', '--only', 'gemm', '--python', join(dir, 'no-such-python'), '--out', join(dir, 'never.json')]);
    assert.equal(noPeer.code, 2);
    assert.match(noPeer.stderr, /the PyTorch peer \(.*no-such-python\) did not start: .*ENOENT.*python3-torch/);
    assert.equal(existsSync(join(dir, 'never.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
