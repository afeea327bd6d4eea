import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, type ImageDataset } from '../src/data/index.js';
import { Augmenter } from '../src/transforms/index.js';
import { TlcvError } from '../src/errors.js';
import { liveTensors, tidy } from '../src/tensor/index.js';

/** n images of 2x3x3 whose every byte encodes its index, labels i % 4. */
function dataset(n: number, channels = 2): ImageDataset {
  const size = channels * 9;
  const images = new Uint8Array(n * size);
  for (let i = 0; i < n; i += 1) images.fill(i % 256, i * size, (i + 1) * size);
  return { name: 'toy', images, labels: Int32Array.from({ length: n }, (_, i) => i % 4), n, channels, height: 3, width: 3, classes: ['a', 'b', 'c', 'd'], source: 'test' };
}

const norm = { mean: [0.5], std: [0.25] };

test('batch count with and without dropLast, and the last short batch', () => {
  const ds = dataset(10);
  const keep = new DataLoader(ds, { batchSize: 4, ...norm });
  assert.equal(keep.length, 3);
  const sizes = [...keep].map((b) => {
    const n = b.x.shape[0]!;
    b.x.dispose();
    b.y.dispose();
    return n;
  });
  assert.deepEqual(sizes, [4, 4, 2]);
  const drop = new DataLoader(ds, { batchSize: 4, dropLast: true, ...norm });
  assert.equal(drop.length, 2);
  assert.equal([...drop].map((b) => (b.x.dispose(), b.y.dispose(), 1)).length, 2);
  assert.equal(new DataLoader(ds, { batchSize: 5, dropLast: true, ...norm }).length, 2);
});

test('every index once per epoch; same seed same order; epochs and seeds differ', () => {
  const ds = dataset(103);
  const order = (seed: number, epoch: number): number[] =>
    tidy(() => {
      const l = new DataLoader(ds, { batchSize: 16, shuffle: true, seed, ...norm });
      l.setEpoch(epoch);
      return [...l].flatMap((b) => Array.from(b.indices));
    });
  const a = order(1, 0);
  assert.equal(a.length, 103);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 103 }, (_, i) => i));
  assert.deepEqual(order(1, 0), a);
  assert.notDeepEqual(order(1, 1), a);
  assert.notDeepEqual(order(2, 0), a);
  const plain = tidy(() => [...new DataLoader(ds, { batchSize: 16, ...norm })].flatMap((b) => Array.from(b.indices)));
  assert.deepEqual(plain, Array.from({ length: 103 }, (_, i) => i));
});

test('x is normalised float32 NCHW from the right images, y int64 labels', () => {
  const ds = dataset(6);
  const l = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 4, mean: [0.5, 0.1], std: [0.25, 0.5] });
  tidy(() => {
    for (const { x, y, indices } of l) {
      assert.equal(x.dtype, 'float32');
      assert.equal(y.dtype, 'int64');
      assert.deepEqual(x.shape, [3, 2, 3, 3]);
      const values = x.toFlatArray();
      const labels = y.toFlatArray();
      indices.forEach((i, j) => {
        assert.equal(labels[j], i % 4);
        const v = i / 255;
        assert.ok(Math.abs(values[j * 18]! - (v - 0.5) / 0.25) < 1e-5);
        assert.ok(Math.abs(values[j * 18 + 9]! - (v - 0.1) / 0.5) < 1e-5);
      });
    }
  });
});

test('an augmenter runs between scaling and normalisation; channels-last keeps values', () => {
  const ds = dataset(4, 1);
  const bright = new Augmenter({ brightness: 0.5 }, 3);
  const l = new DataLoader(ds, { batchSize: 4, mean: [0], std: [1], augment: bright, memoryFormat: 'channelsLast' });
  tidy(() => {
    const [b] = [...l];
    const v = b!.x.toFlatArray();
    // Brightness scales each image by a factor in [0.5, 1.5], clamped to [0, 1].
    for (let i = 1; i < 4; i += 1) {
      const f = v[i * 9]! / (i / 255);
      assert.ok(f >= 0.5 - 1e-4 && f <= 1.5 + 1e-4, `factor ${f}`);
    }
    assert.equal(b!.x.shape.join(), '4,1,3,3');
  });
});

test('validation: batch size, drop-last larger than the dataset, mean/std per channel', () => {
  const ds = dataset(10);
  assert.throws(() => new DataLoader(ds, { batchSize: 0, ...norm }), (e: unknown) => e instanceof TlcvError && /positive integer for batchSize/.test(e.message));
  assert.throws(() => new DataLoader(ds, { batchSize: 2.5, ...norm }), TlcvError);
  assert.throws(
    () => new DataLoader(ds, { batchSize: 11, dropLast: true, ...norm }),
    (e: unknown) => e instanceof TlcvError && /batch size 11 is larger than dataset toy \(10 images\) and drop-last is on/.test(e.message),
  );
  assert.equal(new DataLoader(ds, { batchSize: 11, ...norm }).length, 1);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, mean: [0.1, 0.2, 0.3], std: [1] }), /one per channel/);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, mean: [0], std: [0] }), /positive/);
  assert.throws(() => new DataLoader({ ...ds, n: 0, images: new Uint8Array(0), labels: new Int32Array(0) }, { batchSize: 2, ...norm }), /empty/);
});

test('no tensors leak: disposing x and y, or an enclosing tidy, frees every batch', () => {
  const ds = dataset(50);
  const before = liveTensors().count;
  const l = new DataLoader(ds, { batchSize: 8, shuffle: true, ...norm, augment: new Augmenter({ rotationRange: 10, horizontalFlip: true }, 1) });
  for (let e = 0; e < 3; e += 1) {
    l.setEpoch(e);
    for (const b of l) {
      tidy(() => b.x.add(1).sum().item() + b.y.sum().item());
      b.x.dispose();
      b.y.dispose();
    }
  }
  assert.equal(liveTensors().count, before);
  tidy(() => {
    for (const b of l) b.x.sum().item();
  });
  assert.equal(liveTensors().count, before);
});
