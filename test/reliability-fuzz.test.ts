// Fuzzing, beyond the byte-level fuzzers of each parser's own test file: structured inputs
// that get past the first checks. IDX pairs with random headers and bodies, CIFAR-10 files and
// names files with random bytes, safetensors headers built from random JSON, and data specs
// built from the grammar's own pieces with random values. Whatever the input, the parsers give
// a consistent result or a TlcvError of the expected code, never another exception, a hang or
// a huge allocation. Bounded runs with fixed seeds, so CI is repeatable.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TlcvError } from '../src/errors.js';
import { encodeIdx, parseDataSpec, readCifar, readIdxDataset } from '../src/data/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { disposeAll, liveTensors } from '../src/tensor/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

function typed(e: unknown, codes: string[], input: string): void {
  if (!(e instanceof TlcvError && codes.includes(e.code))) {
    assert.fail(`expected a TlcvError (${codes.join('|')}) for ${input}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

test('IDX pairs: random header dimensions, body lengths, gzip and labels give a consistent dataset or a DATA/FILE error', async () => {
  const dir = join(root, 'idx');
  mkdirSync(dir);
  let successes = 0;
  const dim = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(2 ** 31, 2 ** 32 - 1, 65536));
  await fc.assert(
    fc.asyncProperty(
      fc.tuple(dim, dim, dim),
      fc.integer({ min: -8, max: 8 }),
      fc.integer({ min: 0, max: 8 }),
      fc.uint8Array({ maxLength: 8 }),
      fc.boolean(),
      fc.boolean(),
      async (dims, slack, randomLabels, labelBytes, gzImages, gzLabels) => {
        // Half the cases have as many labels as images, so the success path runs too.
        const nLabels = randomLabels % 2 === 0 && dims[0] <= 8 ? dims[0] : randomLabels;
        const claimed = dims.reduce((a, b) => a * b, 1);
        // A body near what the header claims (when that is small), so both the size checks and the success path run.
        const bodyLength = Math.max(0, Math.min(claimed, 300) + (slack % 3 === 0 ? 0 : slack));
        const images = encodeIdx([...dims], new Uint8Array(bodyLength).fill(5));
        const labels = encodeIdx([nLabels], Uint8Array.from({ length: nLabels }, (_, i) => labelBytes[i % Math.max(1, labelBytes.length)] ?? 0));
        const ip = join(dir, 'images');
        const lp = join(dir, 'labels');
        writeFileSync(ip, gzImages ? gzipSync(images) : images);
        writeFileSync(lp, gzLabels ? gzipSync(labels) : labels);
        try {
          const ds = await readIdxDataset(ip, lp);
          successes += 1;
          assert.equal(ds.n, dims[0]);
          assert.equal(ds.n, nLabels);
          assert.equal(ds.images.length, claimed);
          assert.ok(ds.labels.every((y) => y >= 0 && y < ds.classes.length));
        } catch (e) {
          typed(e, ['DATA', 'FILE'], `dims [${dims.join(', ')}] + ${bodyLength} bytes, ${nLabels} labels`);
        }
      },
    ),
    { numRuns: 300, seed: 6 },
  );
  assert.ok(successes > 0, 'some cases were valid files');
});

test('CIFAR-10: random batch bytes and names files give a consistent dataset or a DATA/FILE error', async () => {
  const dir = join(root, 'cifar');
  mkdirSync(dir);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: -2, max: 2 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }),
      fc.option(fc.string({ maxLength: 60 })),
      async (records, extra, labels, names) => {
        const bytes = new Uint8Array(Math.max(0, records * 3073 + extra));
        for (let r = 0; r < records && r * 3073 < bytes.length; r += 1) bytes[r * 3073] = labels[r]!;
        writeFileSync(join(dir, 'test_batch.bin'), bytes);
        if (names === null) rmSync(join(dir, 'batches.meta.txt'), { force: true });
        else writeFileSync(join(dir, 'batches.meta.txt'), names);
        try {
          const ds = await readCifar(dir, 'cifar10', 'test');
          assert.equal(ds.n, records);
          assert.equal(ds.classes.length, 10);
          assert.ok(ds.labels.every((y) => y >= 0 && y < 10));
        } catch (e) {
          typed(e, ['DATA', 'FILE'], `${bytes.length} bytes, labels ${labels.join(',')}`);
        }
      },
    ),
    { numRuns: 150, seed: 8 },
  );
});

/** safetensors bytes from a header object and a data length. */
function safetensors(header: unknown, dataLength: number): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(dataLength, 1)]);
}

test('safetensors: headers built from random JSON give tensors that match the header, or a WEIGHTS error', () => {
  const dtype = fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'U32', 'F8_E4M3'), fc.string({ maxLength: 4 }));
  const size = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 2 ** 40, 2 ** 53, 1.5), fc.constant(null));
  const entry = fc.record(
    { dtype: fc.oneof(dtype, fc.integer()), shape: fc.oneof(fc.array(size, { maxLength: 3 }), fc.string({ maxLength: 3 })), data_offsets: fc.oneof(fc.array(size, { maxLength: 3 }), fc.anything()) },
    { requiredKeys: [] },
  );
  const header = fc.dictionary(fc.oneof(fc.constantFrom('w', 'b', '0', '__metadata__'), fc.string({ maxLength: 3 })), fc.oneof(entry, fc.anything({ maxDepth: 1 })), { maxKeys: 3 });
  const live = liveTensors().count;
  fc.assert(
    fc.property(header, fc.integer({ min: 0, max: 64 }), (h, dataLength) => {
      const bytes = safetensors(h, dataLength);
      try {
        const tensors = parseSafetensors(bytes, 'fuzz.safetensors');
        for (const [name, t] of tensors) {
          const e = (h as Record<string, { shape: number[] }>)[name]!;
          assert.deepEqual(t.shape, e.shape, name);
        }
        disposeAll(tensors);
      } catch (e) {
        typed(e, ['WEIGHTS'], JSON.stringify(h));
      }
    }),
    { numRuns: 1000, seed: 12 },
  );
  assert.equal(liveTensors().count, live, 'nothing leaks from failed parses');
});

test('safetensors: consistent headers with random shapes and dtypes read back with the right shapes', () => {
  const items = fc.array(fc.tuple(fc.constantFrom(['F32', 4], ['I64', 8], ['U8', 1], ['F16', 2]), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 })), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(items, fc.integer({ min: -2, max: 2 }), (list, slack) => {
      const header: Record<string, unknown> = {};
      let offset = 0;
      list.forEach(([[dtype, itemSize], shape], i) => {
        const bytes = (itemSize as number) * shape.reduce((a, b) => a * b, 1);
        header[`t${i}`] = { dtype, shape, data_offsets: [offset, offset + bytes] };
        offset += bytes;
      });
      const dataLength = Math.max(0, offset + slack);
      try {
        const tensors = parseSafetensors(safetensors(header, dataLength), 'fuzz.safetensors');
        assert.equal(dataLength, offset, 'only an exact data length is accepted');
        list.forEach(([, shape], i) => assert.deepEqual(tensors.get(`t${i}`)!.shape, shape));
        disposeAll(tensors);
      } catch (e) {
        typed(e, ['WEIGHTS'], JSON.stringify(header));
        assert.notEqual(dataLength, offset, `a consistent header was refused: ${(e as Error).message}`);
      }
    }),
    { numRuns: 200, seed: 13 },
  );
});

test('data specs built from the grammar with random values parse consistently or throw DATA_SPEC', () => {
  const value = fc.oneof(fc.constantFrom('0', '1', '-1', '0.5', '1e3', 'NaN', 'Infinity', '', ' ', '2.5', '9007199254740993', 'x'), fc.string({ maxLength: 5 }));
  const modifier = fc.oneof(
    fc.tuple(fc.constantFrom('k', 'n', 'seed', 'frac', 'remap', 'stratify', 'classes', 'shift', 'rest', 'bogus'), value).map(([k, v]) => (k === 'rest' ? k : `${k}=${v}`)),
    fc.tuple(fc.constantFrom('rotate', 'translate', 'noise', 'invert', 'blur'), fc.array(value, { maxLength: 3 })).map(([s, args]) => `shift=${[s, ...args].join(':')}`),
  );
  const source = fc.constantFrom('mnist:train', 'fashion-mnist:all', 'idx:a.gz,b.gz', 'folder:photos', 'folder:a@b:train', 'cifar10:test', 'cifar100:/d:train', 'mnist', 'idx:a', 'cifar10:x');
  fc.assert(
    fc.property(source, fc.array(modifier, { maxLength: 4 }), (src, mods) => {
      const text = mods.length === 0 ? src : `${src}@${mods.join(',')}`;
      try {
        const spec = parseDataSpec(text);
        const m = spec.modifiers;
        if (m.k !== undefined) assert.ok(Number.isInteger(m.k) && m.k >= 1, text);
        if (m.n !== undefined) assert.ok(Number.isInteger(m.n) && m.n >= 1, text);
        if (m.frac !== undefined) assert.ok(m.frac > 0 && m.frac < 1, text);
        if (m.seed !== undefined) assert.ok(Number.isInteger(m.seed) && m.seed >= 0, text);
        assert.ok(!(m.k !== undefined && m.frac !== undefined), text);
      } catch (e) {
        typed(e, ['DATA_SPEC'], JSON.stringify(text));
      }
    }),
    { numRuns: 1500, seed: 21 },
  );
});
