import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  stratifiedSubset,
  fractionSplit,
  resample,
  selectClasses,
  complement,
  shiftDomain,
  conformDataset,
  classCounts,
  Rng,
  type ImageDataset,
} from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';
import { liveTensors } from '../src/tensor/index.js';

/** A dataset whose image i holds i in its first two bytes, so subsets can be traced back. */
function synthetic(perClass: number[], side = 4, channels = 1): ImageDataset {
  const n = perClass.reduce((a, b) => a + b, 0);
  const size = channels * side * side;
  const images = new Uint8Array(n * size);
  const labels = new Int32Array(n);
  let i = 0;
  perClass.forEach((count, c) => {
    for (let k = 0; k < count; k += 1, i += 1) {
      images[i * size] = i % 256;
      images[i * size + 1] = Math.floor(i / 256);
      labels[i] = c;
    }
  });
  // Interleave classes so class order is not index order.
  const perm = new Rng(5).permutation(n);
  const img2 = new Uint8Array(n * size);
  const lab2 = new Int32Array(n);
  perm.forEach((src, dst) => {
    img2.set(images.subarray(src * size, (src + 1) * size), dst * size);
    lab2[dst] = labels[src]!;
  });
  return { name: 'synthetic', images: img2, labels: lab2, n, channels, height: side, width: side, classes: perClass.map((_, c) => `c${c}`), source: 'test' };
}

const ids = (ds: ImageDataset): number[] => {
  const size = ds.channels * ds.height * ds.width;
  return Array.from({ length: ds.n }, (_, i) => ds.images[i * size]! + 256 * ds.images[i * size + 1]!);
};

test('stratified subsets hold exactly k per class; same seed same subset, other seed differs', () => {
  const ds = synthetic([30, 25, 40, 12]);
  const a = stratifiedSubset(ds, 10, 1);
  assert.equal(a.n, 40);
  assert.deepEqual(classCounts(a), [10, 10, 10, 10]);
  assert.deepEqual(ids(stratifiedSubset(ds, 10, 1)), ids(a));
  assert.notDeepEqual(ids(stratifiedSubset(ds, 10, 2)), ids(a));
  assert.equal(new Set(ids(a)).size, 40, 'no image twice');
  // Labels travel with their images.
  const orig = new Map(ids(ds).map((id, i) => [id, ds.labels[i]]));
  ids(a).forEach((id, i) => assert.equal(a.labels[i], orig.get(id)));
  assert.throws(() => stratifiedSubset(ds, 13, 0), (e: unknown) => e instanceof TlcvError && /class c3 \(12\) has fewer/.test(e.message));
  assert.throws(() => stratifiedSubset(ds, 0, 0), TlcvError);
});

test('complement is disjoint from the subset and covers the rest', () => {
  const ds = synthetic([30, 25, 40, 12]);
  const sub = stratifiedSubset(ds, 5, 3);
  const rest = complement(ds, sub);
  assert.equal(rest.n, ds.n - sub.n);
  const a = new Set(ids(sub));
  assert.ok(ids(rest).every((id) => !a.has(id)));
  assert.deepEqual([...ids(sub), ...ids(rest)].sort((x, y) => x - y), ids(ds).sort((x, y) => x - y));
  assert.throws(() => complement(ds, ds), (e: unknown) => e instanceof TlcvError && /not taken from/.test(e.message));
});

test('fraction splits: sizes, stratification, disjoint parts, seeded', () => {
  const ds = synthetic([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  const [train, testPart] = fractionSplit(ds, 0.9, 0);
  assert.equal(train.n, 9000);
  assert.equal(testPart.n, 1000);
  const full = classCounts(ds);
  classCounts(testPart).forEach((c, k) => assert.ok(Math.abs(c - full[k]! * 0.1) <= 1, `class ${k}: ${c}`));
  const inTrain = new Set(ids(train));
  assert.ok(ids(testPart).every((id) => !inTrain.has(id)));
  assert.deepEqual(ids(fractionSplit(ds, 0.9, 0)[1]), ids(testPart));
  assert.notDeepEqual(ids(fractionSplit(ds, 0.9, 1)[1]), ids(testPart));
  const [a, b] = fractionSplit(synthetic([7, 3]), 0.3, 4, { stratified: false });
  assert.deepEqual([a.n, b.n], [3, 7]);
  assert.throws(() => fractionSplit(ds, 1, 0), TlcvError);
  // The second part is also the complement of the first.
  assert.deepEqual(ids(complement(ds, train)), ids(testPart));
});

test('resample draws with replacement, seeded, in range', () => {
  const ds = synthetic([5, 5]);
  const r = resample(ds, 200, 9);
  assert.equal(r.n, 200);
  const seen = ids(r);
  assert.ok(new Set(seen).size < 200 && new Set(seen).size > 1, 'repeats happen with replacement');
  assert.ok(seen.every((id) => id >= 0 && id < 10));
  assert.deepEqual(ids(resample(ds, 200, 9)), seen);
  assert.notDeepEqual(ids(resample(ds, 200, 10)), seen);
  // Every image is drawn with a fair share over many draws.
  const counts = new Array<number>(10).fill(0);
  for (const id of ids(resample(ds, 20000, 1))) counts[id]! += 1;
  assert.ok(counts.every((c) => c > 1700 && c < 2300), counts.join());
});

test('selectClasses keeps the listed classes, remapped in order or not', () => {
  const ds = synthetic([3, 4, 5, 6]);
  const s = selectClasses(ds, [3, 'c1']);
  assert.deepEqual(s.classes, ['c3', 'c1']);
  assert.equal(s.n, 10);
  assert.deepEqual(classCounts(s), [6, 4]);
  const kept = selectClasses(ds, [3, 1], { remap: false });
  assert.equal(kept.classes.length, 4);
  assert.deepEqual(classCounts(kept), [0, 4, 0, 6]);
  assert.throws(() => selectClasses(ds, ['nope']), (e: unknown) => e instanceof TlcvError && e.code === 'DATA_SPEC');
  assert.throws(() => selectClasses(ds, [1, 1]), /twice/);
});

test('shiftDomain: fixed rotation by 90 turns the image, invert flips values, noise is seeded; no tensors leak', () => {
  const side = 4;
  const img = Uint8Array.from({ length: 16 }, (_, i) => i * 16);
  const ds: ImageDataset = { name: 'one', images: img, labels: Int32Array.from([0]), n: 1, channels: 1, height: side, width: side, classes: ['a'], source: 't' };
  const before = liveTensors().count;
  const rot = shiftDomain(ds, { rotate: 90 }, 0);
  // Counter-clockwise: the top row (0, 16, 32, 48) becomes the left column, read bottom-up.
  const at = (d: ImageDataset, y: number, x: number): number => d.images[y * side + x]!;
  assert.deepEqual([at(rot, 3, 0), at(rot, 2, 0), at(rot, 1, 0), at(rot, 0, 0)], [0, 16, 32, 48]);
  const inv = shiftDomain(ds, { invert: true }, 0);
  assert.deepEqual(Array.from(inv.images), Array.from(img, (v) => 255 - v));
  const n1 = shiftDomain(ds, { noise: 0.1 }, 4);
  assert.deepEqual(Array.from(shiftDomain(ds, { noise: 0.1 }, 4).images), Array.from(n1.images));
  assert.notDeepEqual(Array.from(shiftDomain(ds, { noise: 0.1 }, 5).images), Array.from(n1.images));
  const moved = shiftDomain(ds, { translate: 0.25 }, 0);
  assert.equal(at(moved, 1, 1), at(ds, 0, 0));
  assert.equal(at(moved, 3, 3), at(ds, 2, 2));
  assert.equal(liveTensors().count, before);
  assert.throws(() => shiftDomain(ds, { noise: 3 }, 0), TlcvError);
});

test('conformDataset converts channels and size both ways', () => {
  const gray = synthetic([2], 8);
  gray.images.fill(100);
  const rgb = conformDataset(gray, { channels: 3, height: 16, width: 12 });
  assert.deepEqual([rgb.channels, rgb.height, rgb.width, rgb.n], [3, 16, 12, 2]);
  assert.ok(rgb.images.every((v) => v === 100));
  const color: ImageDataset = { ...synthetic([1], 4, 3), images: Uint8Array.from({ length: 48 }, (_, i) => (i < 16 ? 255 : 0)) };
  const back = conformDataset(color, { channels: 1, height: 2, width: 2 });
  assert.deepEqual(Array.from(back.images), [76, 76, 76, 76]);
  assert.equal(conformDataset(back, { channels: 1, height: 2, width: 2 }), back);
});
