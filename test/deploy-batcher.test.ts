// The micro-batcher behind `tlcv serve`: batches of at most maxBatch, in arrival order, a lone
// item waits at most maxWaitMs (and not at all while batches come alone), and a failing batch
// fails only its own items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../src/deploy/batcher.js';

test('items arriving together run as batches of at most maxBatch, in order, each getting its own result', async () => {
  const seen: number[][] = [];
  const b = new MicroBatcher((xs: number[]) => (seen.push(xs), xs.map((x) => x * 10)), { maxBatch: 4, maxWaitMs: 1000 });
  const started = performance.now();
  const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
  assert.deepEqual(out, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.deepEqual(seen, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.equal(b.batches, 3);
  // Full batches go at once, and the remainder right after them, not after maxWaitMs.
  assert.ok(performance.now() - started < 500, `${performance.now() - started} ms`);
});

test('the wait adapts: a lone item runs at once while batches come alone, waits maxWaitMs after a batch found company; maxBatch 1 runs each at once', async () => {
  const seen: number[][] = [];
  const b = new MicroBatcher((xs: number[]) => (seen.push(xs), xs), { maxBatch: 8, maxWaitMs: 60 });
  const timed = async (f: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  // A quiet batcher: no waiting for company that is not coming.
  const quiet = await timed(() => b.submit(1));
  assert.ok(quiet < 40, `a lone item on a quiet batcher waited ${quiet} ms`);
  // Two at once: one batch of two; the next lone item then waits for more, and runs alone.
  await Promise.all([b.submit(2), b.submit(3)]);
  const busy = await timed(() => b.submit(4));
  assert.ok(busy >= 55 && busy < 1000, `after a batch of two, a lone item waited ${busy} ms`);
  // It found no company: the next one runs at once again.
  const again = await timed(() => b.submit(5));
  assert.ok(again < 40, `after a lone batch, a lone item waited ${again} ms`);
  // 'fixed' always waits.
  const fixed = new MicroBatcher((xs: number[]) => xs, { maxBatch: 8, maxWaitMs: 60, wait: 'fixed' });
  const waited = await timed(() => fixed.submit(0));
  assert.ok(waited >= 55 && waited < 1000, `a fixed wait of 60 ms took ${waited} ms`);
  const single = new MicroBatcher((xs: number[]) => (seen.push(xs), xs), { maxBatch: 1, maxWaitMs: 60 });
  await Promise.all([single.submit(6), single.submit(7)]);
  assert.deepEqual(seen, [[1], [2, 3], [4], [5], [6], [7]]);
});

test('a batch that throws rejects its own items only, and the next batch runs', async () => {
  const b = new MicroBatcher(
    (xs: number[]) => {
      if (xs.includes(-1)) throw new Error('bad batch');
      return xs;
    },
    { maxBatch: 2, maxWaitMs: 5 },
  );
  const results = await Promise.allSettled([b.submit(-1), b.submit(1), b.submit(2), b.submit(3)]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled', 'fulfilled']);
  assert.equal(await b.submit(4), 4);
  assert.throws(() => new MicroBatcher((xs: number[]) => xs, { maxBatch: 0, maxWaitMs: 1 }), /Expected a positive integer for maxBatch but received 0/);
});
