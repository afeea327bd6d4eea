// The issue-16 parts of `tlcv bench` on a tiny config against the real PyTorch peer: the
// optimizer step alone (tlcv fused and per-op, PyTorch foreach and single-tensor) and the
// roofline (achieved GFLOP/s against GEMM peaks, a profiled step each). Figures and ratios
// must follow from what was measured; no timing is asserted on this shared machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, median, renderMarkdown, runBench, type BenchConfig, type BenchReport } from '../src/bench/index.js';

const once = { warmup: 1, iters: 1, minSeconds: 0, maxIters: 1 };
const tiny: BenchConfig = {
  threads: 1,
  reps: 2,
  seed: 0,
  throughput: [{ model: 'seed-cnn', inputSize: [1, 28, 28], batch: 4, numClasses: 10, timing: once }],
  gemm: null,
  transfer: null,
  precision: null,
  memory: null,
  tfjs: null,
  optimizer: { model: 'resnet18', inputSize: [3, 224, 224], numClasses: 1000, timing: { warmup: 1, iters: 2, minSeconds: 0, maxIters: 2 } },
  roofline: { model: 'seed-cnn', inputSize: [1, 28, 28], batch: 4, numClasses: 10, timing: once },
};

const positive = (v: number, what: string): void => assert.ok(Number.isFinite(v) && v > 0, `${what} = ${v}`);

test('the optimizer row and the roofline run against the peer, and the report follows from them', async () => {
  const r: BenchReport = await runBench({ config: tiny, command: 'test' });
  assert.deepEqual(r.errors, {});

  const o = r.optimizer!;
  assert.equal(o.params, 11_689_512, "ResNet-18's parameters, the same count on both sides");
  assert.deepEqual([Object.keys(o.tlcv).sort(), Object.keys(o.peer).sort()], [['fused', 'per-op'], ['foreach', 'single']]);
  for (const f of [...Object.values(o.tlcv), ...Object.values(o.peer)]) {
    assert.equal(f.samples.length, tiny.reps);
    assert.equal(f.median, median(f.samples));
    f.samples.forEach((s) => positive(s, 'ms per step'));
  }
  assert.equal(o.speedupVsForeach, o.peer.foreach!.median / o.tlcv.fused!.median);

  const f = r.roofline!;
  positive(f.forwardFlopsPerImage ?? NaN, 'forward FLOPs');
  positive(f.peaks.float32, 'fp32 peak');
  positive(f.peaks.bfloat16, 'bf16 peak');
  assert.deepEqual(f.runs.map((run) => `${run.mode} ${run.setting}`), ['train default', 'train fp32', 'infer default', 'infer fp32']);
  for (const run of f.runs) {
    assert.equal(run.gflops, (run.imagesPerSec * f.forwardFlopsPerImage! * (run.mode === 'train' ? 3 : 1)) / 1e9);
    const groups = run.profile.groups;
    assert.ok((groups['conv forward'] ?? 0) > 0, `${run.mode} ${run.setting}: convolutions were profiled`);
    if (run.mode === 'train') assert.ok((groups['optimizer step'] ?? 0) > 0 && (groups['conv backward'] ?? 0) > 0);
    const sum = Object.values(groups).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - run.profile.wallMs) <= 0.05 * run.profile.wallMs + 0.5, `groups add up to the step: ${sum} vs ${run.profile.wallMs}`);
  }

  assert.deepEqual(r.targets, checkTargets(r));
  const t = r.targets.find((x) => x.name.startsWith('16. optimizer step'))!;
  assert.equal(t.met, o.speedupVsForeach >= 2);
  assert.ok(r.targets.some((x) => x.name.startsWith('16. every inference row')));
  const md = renderMarkdown(r);
  assert.match(md, /\| tlcv, fused \(default\) \| [\d.]+ \| [\d.]+x \|/);
  assert.match(md, /\| training, default \| .+ \| [\d.,]+ \| [\d.,]+ \| [\d.]+% \| [\d.]+% \|/);
  assert.match(md, /\| conv forward \|/);
});
