import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { encodeIdx, readIdx, readIdxDataset, IDX_MAX_BYTES } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tlcv-idx-'));
let counter = 0;
function file(bytes: Uint8Array, gz = false): string {
  const p = join(dir, `f${counter++}${gz ? '.gz' : ''}`);
  writeFileSync(p, gz ? gzipSync(bytes) : bytes);
  return p;
}

function sample(n: number, h: number, w: number): { images: Uint8Array; labels: Uint8Array } {
  const images = Uint8Array.from({ length: n * h * w }, (_, i) => (i * 37 + 11) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels };
}

/** Asserts a typed DATA/FILE error whose message names the file and matches `what`. */
async function rejectsNaming(p: Promise<unknown>, path: string, what: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TlcvError, `expected TlcvError, got ${String(e)}`);
    assert.ok(e.message.includes(path), `message should name ${path}: ${e.message}`);
    assert.match(e.message, what);
    return true;
  });
}

for (const gz of [false, true]) {
  test(`IDX round-trip (${gz ? 'gzip' : 'raw'}): images, labels and shape come back equal`, async () => {
    const { images, labels } = sample(7, 5, 3);
    const ip = file(encodeIdx([7, 5, 3], images), gz);
    const lp = file(encodeIdx([7], labels), gz);
    const ds = await readIdxDataset(ip, lp, { classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] });
    assert.equal(ds.n, 7);
    assert.deepEqual([ds.channels, ds.height, ds.width], [1, 5, 3]);
    assert.deepEqual(Array.from(ds.images), Array.from(images));
    assert.deepEqual(Array.from(ds.labels), Array.from(labels));
    assert.equal(ds.classes.length, 10);
  });
}

test('IDX without class names infers 0..max label', async () => {
  const { images } = sample(3, 2, 2);
  const ds = await readIdxDataset(file(encodeIdx([3, 2, 2], images)), file(encodeIdx([3], Uint8Array.from([0, 4, 2]))));
  assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4']);
});

test('truncated IDX files fail naming the file (raw and gzip)', async () => {
  const full = encodeIdx([4, 3, 3], sample(4, 3, 3).images);
  const raw = file(full.subarray(0, full.length - 5));
  await rejectsNaming(readIdx(raw), raw, /truncated/);
  const header = file(full.subarray(0, 10));
  await rejectsNaming(readIdx(header), header, /truncated/);
  const gzBytes = gzipSync(full);
  const cut = join(dir, 'cut.gz');
  writeFileSync(cut, gzBytes.subarray(0, gzBytes.length - 12));
  await rejectsNaming(readIdx(cut), cut, /truncated|corrupt/);
  const short = file(Uint8Array.from([0, 0]));
  await rejectsNaming(readIdx(short), short, /truncated/);
});

test('wrong magic, wrong dtype and wrong dimension count are typed errors', async () => {
  const bad = encodeIdx([2, 2, 2], new Uint8Array(8));
  bad[0] = 0x12;
  const p1 = file(bad);
  await rejectsNaming(readIdx(p1), p1, /magic/);
  const f32 = encodeIdx([2], new Uint8Array(2));
  f32[2] = 0x0d;
  const p2 = file(f32);
  await rejectsNaming(readIdx(p2), p2, /dtype.*0x0d.*float32/);
  const labelsAsImages = file(encodeIdx([4], new Uint8Array(4)));
  const labels = file(encodeIdx([4], new Uint8Array(4)));
  await rejectsNaming(readIdxDataset(labelsAsImages, labels), labelsAsImages, /1 dimensions: expected 3/);
});

test('a header claiming huge dimensions fails at once, without allocating', async () => {
  // 60000 x 100000 x 100000: far past the limit.
  const huge = new Uint8Array(16 + 64);
  huge.set(encodeIdx([60000, 100000, 100000], new Uint8Array(0)).subarray(0, 16));
  // Under the limit (1 GB) but in a file of a few bytes: the size check must come first.
  const big = encodeIdx([1000, 1000, 1000], new Uint8Array(64));
  for (const [bytes, gz] of [[huge, false], [huge, true], [big, false], [big, true]] as const) {
    const p = file(bytes, gz);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await rejectsNaming(readIdx(p), p, /limit|truncated|need/);
    const ms = performance.now() - t0;
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(statSync(p).size < 1000);
    assert.ok(grown < 16 * 2 ** 20, `memory grew by ${grown} bytes`);
    assert.ok(ms < 1000, `took ${ms} ms`);
  }
  assert.ok(1000 ** 3 < IDX_MAX_BYTES);
});

test('image and label counts that differ fail naming both files', async () => {
  const ip = file(encodeIdx([5, 2, 2], new Uint8Array(20)));
  const lp = file(encodeIdx([4], new Uint8Array(4)));
  await assert.rejects(readIdxDataset(ip, lp), (e: unknown) => e instanceof TlcvError && e.message.includes(ip) && e.message.includes(lp) && /5 images.*4 labels/.test(e.message));
});

test('labels out of range for the classes fail naming the labels file', async () => {
  const ip = file(encodeIdx([3, 2, 2], new Uint8Array(12)));
  const lp = file(encodeIdx([3], Uint8Array.from([1, 12, 3])));
  await rejectsNaming(readIdxDataset(ip, lp, { classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }), lp, /label 12.*\[0, 10\)/);
});

test('trailing bytes after the data are rejected', async () => {
  const full = encodeIdx([2], Uint8Array.from([1, 2]));
  const p = file(Uint8Array.from([...full, 9, 9]));
  await rejectsNaming(readIdx(p), p, /trailing/);
});

test('a missing IDX file is a FILE error naming it', async () => {
  const p = join(dir, 'nope.gz');
  await assert.rejects(readIdx(p), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && e.message.includes(p));
});

test('fuzz: random bytes (raw or gzip) give a dataset or a typed error, nothing else', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.boolean(), fc.boolean(), async (bytes, gz, prefixed) => {
      // Half the cases start with a valid-looking header so the fuzzer gets past the magic check.
      const body = prefixed ? Uint8Array.from([0, 0, 8, 1 + (bytes[0] ?? 0) % 3, ...bytes]) : bytes;
      const p = file(body, gz);
      try {
        const r = await readIdx(p);
        assert.equal(r.data.length, r.dims.reduce((a, b) => a * b, 1));
      } catch (e) {
        assert.ok(e instanceof TlcvError, `untyped error: ${String(e)}`);
      }
    }),
    { numRuns: 200, seed: 42 },
  );
});
