// DistributedSampler: PyTorch's padding, drop_last and sharding (checked against PyTorch's own
// sampler run as a peer), and exact data: over every rank, each epoch covers the data exactly
// once apart from the padding, with a new order each epoch that depends only on seed and epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, type ImageDataset } from '../src/data/index.js';
import { DistributedSampler } from '../src/distributed/index.js';
import { TlcvError } from '../src/errors.js';
import { runPeer } from './helpers/peer.js';
import { tinyDataset } from './helpers/tiny-model.js';

const CASES = [1, 5, 10, 11, 48].flatMap((n) => [1, 2, 3, 4].flatMap((world) => [false, true].map((dropLast) => ({ n, world, dropLast }))));

test("matches PyTorch's DistributedSampler (shuffle off): lengths, padding, drop_last, shards", () => {
  const peer = runPeer('dist_sampler.py', [JSON.stringify(CASES)]);
  const results = peer.meta.results as { length: number; indices: number[] }[][];
  CASES.forEach((c, i) => {
    for (let rank = 0; rank < c.world; rank += 1) {
      const s = new DistributedSampler(c.n, { numReplicas: c.world, rank, shuffle: false, dropLast: c.dropLast });
      const where = `n ${c.n}, world ${c.world}, dropLast ${c.dropLast}, rank ${rank}`;
      assert.equal(s.length, results[i]![rank]!.length, `${where}: length`);
      assert.deepEqual(Array.from(s.indices(0)), results[i]![rank]!.indices, `${where}: indices`);
    }
  });
});

function shards(n: number, world: number, o: { seed: number; epoch: number; dropLast?: boolean }): Int32Array[] {
  return Array.from({ length: world }, (_, rank) => new DistributedSampler(n, { numReplicas: world, rank, seed: o.seed, dropLast: o.dropLast }).indices(o.epoch));
}

test('shuffled shards cover every image exactly once per epoch, apart from the padding', () => {
  for (const n of [10, 11, 48, 97]) {
    for (const world of [2, 3, 4]) {
      for (const epoch of [0, 1, 5]) {
        const parts = shards(n, world, { seed: 7, epoch });
        const length = Math.ceil(n / world);
        assert.ok(parts.every((p) => p.length === length), 'every rank runs the same number of steps');
        const counts = new Array<number>(n).fill(0);
        for (const p of parts) for (const i of p) counts[i]! += 1;
        const order = new DistributedSampler(n, { numReplicas: world, rank: 0, seed: 7 }).globalOrder(epoch);
        const padding = new Set(order.subarray(0, length * world - n));
        counts.forEach((c, i) => assert.equal(c, padding.has(i) ? 2 : 1, `n ${n}, world ${world}, epoch ${epoch}: image ${i} seen ${c} times`));
        const dropped = shards(n, world, { seed: 7, epoch, dropLast: true });
        const seen = dropped.flatMap((p) => Array.from(p));
        assert.equal(new Set(seen).size, seen.length, 'drop_last: no image twice');
        assert.equal(seen.length, Math.floor(n / world) * world, 'drop_last: only the tail is dropped');
      }
    }
  }
});

test('the order is reshuffled each epoch and depends only on seed and epoch', () => {
  const key = (p: Int32Array[]): string => p.map((x) => x.join(',')).join('|');
  assert.equal(key(shards(48, 2, { seed: 1, epoch: 3 })), key(shards(48, 2, { seed: 1, epoch: 3 })));
  assert.notEqual(key(shards(48, 2, { seed: 1, epoch: 3 })), key(shards(48, 2, { seed: 1, epoch: 4 })));
  assert.notEqual(key(shards(48, 2, { seed: 1, epoch: 3 })), key(shards(48, 2, { seed: 2, epoch: 3 })));
});

test("a one-rank sampler gives the shuffled DataLoader's own order", () => {
  const ds = tinyDataset(30);
  const plain = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 9, mean: [0.5], std: [0.5] });
  const sampled = new DataLoader(ds, { batchSize: 4, sampler: new DistributedSampler(ds.n, { numReplicas: 1, rank: 0, seed: 9 }), mean: [0.5], std: [0.5] });
  for (const epoch of [0, 2]) assert.deepEqual(sampled.order(epoch), plain.order(epoch));
});

test("the DataLoader takes a rank's shard: its batches are the sampler's positions, all ranks together the data once", () => {
  const ds: ImageDataset = tinyDataset(50);
  const seen: number[] = [];
  for (let rank = 0; rank < 2; rank += 1) {
    const sampler = new DistributedSampler(ds.n, { numReplicas: 2, rank, seed: 4 });
    const loader = new DataLoader(ds, { batchSize: 8, sampler, mean: [0.5], std: [0.5] });
    loader.setEpoch(1);
    assert.equal(loader.length, Math.ceil(25 / 8));
    const mine: number[] = [];
    for (const b of loader) {
      mine.push(...b.indices);
      assert.deepEqual(Array.from(b.y.toTypedArray() as BigInt64Array, Number), Array.from(b.indices, (i) => ds.labels[i]!));
      b.x.dispose();
      b.y.dispose();
    }
    assert.deepEqual(mine, Array.from(sampler.indices(1)));
    seen.push(...mine);
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.throws(
    () => new DataLoader(ds, { batchSize: 8, shuffle: true, sampler: new DistributedSampler(ds.n, { numReplicas: 2, rank: 0 }), mean: [0.5], std: [0.5] }),
    (e: unknown) => e instanceof TlcvError && /shuffle and sampler are exclusive/.test(e.message),
  );
});
