import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { encodeCifarRecords, readCifar, loadDataset, CIFAR10_CLASSES, CIFAR100_CLASSES } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cifar-'));
const PIX = 3072;

function images(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n * PIX }, (_, i) => (i * 31 + salt * 7) % 256);
}

test('CIFAR-10 round-trip: five train batches and the test batch, in order', async () => {
  const dir = join(root, 'c10', 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  const all: { img: Uint8Array; lab: number[] }[] = [];
  for (let b = 1; b <= 5; b += 1) {
    const img = images(3, b);
    const lab = [b % 10, (b + 3) % 10, 9];
    all.push({ img, lab });
    writeFileSync(join(dir, `data_batch_${b}.bin`), encodeCifarRecords('cifar10', img, lab));
  }
  writeFileSync(join(dir, 'test_batch.bin'), encodeCifarRecords('cifar10', images(2, 99), [4, 0]));
  // The folder that holds the archive's folder works too.
  {
    const train = await readCifar(join(root, 'c10'), 'cifar10', 'train');
    assert.equal(train.n, 15);
    assert.deepEqual([train.channels, train.height, train.width], [3, 32, 32]);
    assert.deepEqual(Array.from(train.labels), all.flatMap((x) => x.lab));
    const expected = new Uint8Array(15 * PIX);
    all.forEach((x, i) => expected.set(x.img, i * 3 * PIX));
    assert.deepEqual(Buffer.from(train.images).equals(Buffer.from(expected)), true);
    assert.deepEqual(train.classes, CIFAR10_CLASSES);
    const testSet = await readCifar(dir, 'cifar10', 'test');
    assert.deepEqual(Array.from(testSet.labels), [4, 0]);
    assert.ok(Buffer.from(testSet.images).equals(Buffer.from(images(2, 99))));
  }
});

test('CIFAR-100 round-trip uses fine labels and fine_label_names.txt when present', async () => {
  const dir = join(root, 'c100');
  mkdirSync(dir, { recursive: true });
  const img = images(4, 5);
  writeFileSync(join(dir, 'train.bin'), encodeCifarRecords('cifar100', img, [99, 0, 42, 7], [19, 0, 3, 2]));
  writeFileSync(join(dir, 'test.bin'), encodeCifarRecords('cifar100', images(1, 1), [5], [1]));
  let ds = await readCifar(dir, 'cifar100', 'train');
  assert.deepEqual(Array.from(ds.labels), [99, 0, 42, 7]);
  assert.ok(Buffer.from(ds.images).equals(Buffer.from(img)));
  assert.deepEqual(ds.classes, CIFAR100_CLASSES);
  assert.equal(ds.classes.length, 100);
  const names = Array.from({ length: 100 }, (_, i) => `fine${i}`);
  writeFileSync(join(dir, 'fine_label_names.txt'), `${names.join('\n')}\n`);
  ds = await loadDataset(`cifar100:${dir}:train`);
  assert.equal(ds.classes[42], 'fine42');
  assert.equal(ds.name, `cifar100:${dir}:train`);
});

test('bad CIFAR files: wrong size, label out of range, missing batches', async () => {
  const dir = join(root, 'bad');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(3073 * 2 - 1));
  await assert.rejects(readCifar(dir, 'cifar10', 'test'), (e: unknown) => e instanceof TlcvError && e.message.includes('test_batch.bin') && /whole number of 3073-byte records/.test(e.message));
  writeFileSync(join(dir, 'test_batch.bin'), encodeCifarRecords('cifar10', images(2, 0), [3, 10]));
  await assert.rejects(readCifar(dir, 'cifar10', 'test'), (e: unknown) => e instanceof TlcvError && e.message.includes('test_batch.bin') && /label 10/.test(e.message));
  await assert.rejects(readCifar(dir, 'cifar10', 'train'), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /data_batch_1\.bin/.test(e.message));
  await assert.rejects(readCifar(join(root, 'nowhere'), 'cifar10', 'test'), (e: unknown) => e instanceof TlcvError && e.code === 'FILE');
});

test('fuzz: random CIFAR-100 bytes give a dataset or a typed error', async () => {
  const dir = join(root, 'fuzz');
  mkdirSync(dir, { recursive: true });
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -3, max: 3 }), fc.uint8Array({ minLength: 2, maxLength: 2 }), async (records, extra, labels) => {
      const bytes = new Uint8Array(Math.max(0, records * 3074 + extra));
      for (let r = 0; r < records && r * 3074 + 1 < bytes.length; r += 1) bytes.set(labels, r * 3074);
      writeFileSync(join(dir, 'test.bin'), bytes);
      try {
        const ds = await readCifar(dir, 'cifar100', 'test');
        assert.equal(ds.n, records);
      } catch (e) {
        assert.ok(e instanceof TlcvError, `untyped error: ${String(e)}`);
      }
    }),
    { numRuns: 60, seed: 7 },
  );
});
