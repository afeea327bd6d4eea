// The serve section of `tlcv bench`, smoke-sized: both servers and the PyTorch peer start, the
// load runs on loopback without errors, the engines compare, and the report and targets read
// the measured rows. (Figures at this size mean nothing; the section's plumbing does.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig, renderMarkdown, runBench, type BenchConfig } from '../src/bench/index.js';

test('tlcv bench serve section: tlcv serve with and without batching, the PyTorch peer, onnxruntime-node', async () => {
  const base = presetConfig('quick', 1);
  const config: BenchConfig = {
    ...base,
    reps: 1,
    throughput: [],
    gemm: null,
    transfer: null,
    precision: null,
    memory: null,
    tfjs: null,
    optimizer: null,
    roofline: null,
    serve: {
      models: [{ model: 'seed-cnn', inputSize: [1, 28, 28] }],
      clients: [1, 3],
      warmupSeconds: 0.2,
      seconds: 0.6,
      photos: 3,
      batching: { maxBatch: 8, maxWaitMs: 5 },
      engines: { models: [{ model: 'seed-cnn', inputSize: [1, 28, 28] }], batches: [2], timing: { warmup: 1, iters: 2, minSeconds: 0.1, maxIters: 20 } },
    },
  };
  const r = await runBench({ config, command: 'test' });
  assert.deepEqual(r.errors, {});
  const rows = r.serve!.rows;
  assert.deepEqual(rows.map((row) => `${row.clients} ${row.side}`).sort(), ['1 PyTorch', '1 tlcv batching', '1 tlcv no batching', '3 PyTorch', '3 tlcv batching', '3 tlcv no batching']);
  for (const row of rows) {
    assert.equal(row.errors, 0, `${row.side}: every answer 200`);
    assert.ok(row.imagesPerSec[0]! > 0 && row.p50Ms[0]! > 0 && row.p99Ms[0]! >= row.p50Ms[0]!, JSON.stringify(row));
  }
  assert.equal(r.serve!.engines.length, 1);
  assert.ok(r.serve!.engines[0]!.tlcv[0]! > 0 && r.serve!.engines[0]!.onnxruntime[0]! > 0);
  assert.deepEqual(r.targets.map((t) => t.name), ['serve: seed-cnn, images/s at 3 clients, tlcv / PyTorch', 'serve: seed-cnn, p99 latency at 1 client, tlcv vs PyTorch']);
  const md = renderMarkdown(r);
  assert.match(md, /\| seed-cnn 1x28x28 \| 3 \| tlcv batching \| [\d.,]+ \| [\d.,]+ \| [\d.,]+ \| [\d.]+x \| 0 \|/);
  assert.match(md, /Inference engines, fp32, images\/s \(onnxruntime-node 1\.30\.0/);
});
