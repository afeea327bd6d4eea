// safetensors: round trip of every dtype; a file laid out by an independent writer that follows
// the reference layout (the peer) reads back exactly, and our writer reproduces it byte for
// byte; malformed files are WEIGHTS errors naming the file, the tensor and the problem; random
// byte mutations never end in anything but a TlcvError.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runPeer, type PeerResult } from './helpers/peer.js';
import { tensor, randn, arange, disposeAll, liveTensors, tidy, type DType, type Tensor } from '../src/tensor/index.js';
import { TlcvError } from '../src/errors.js';
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  readSafetensorsMetadata,
  serializeSafetensors,
  writeSafetensors,
} from '../src/io/safetensors.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tlcv-st-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const ALL_DTYPES: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];

function sample(): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const d of ALL_DTYPES) {
    m.set(`t.${d}`, d === 'bool' ? tensor([[true, false, true], [false, false, true]]) : tensor([[1.5, -2, 3], [4, 5.25, -6]].map((r) => r.map((v) => (d.startsWith('float') || d === 'bfloat16' ? v : Math.trunc(v) * (d === 'uint8' ? -1 : 1) + (d === 'uint8' ? 10 : 0)))), { dtype: d }));
  }
  m.set('scalar', tensor(3.25, { dtype: 'float64' }));
  m.set('empty', randn([0, 4]));
  m.set('strided', arange(0, 12, 1, { dtype: 'float32' }).reshape([3, 4]).transpose(0, 1));
  return m;
}

test('every dtype, a scalar, an empty and a strided tensor round-trip with metadata', () => {
  const live = liveTensors().count;
  const path = join(dir, 'all.safetensors');
  const src = tidy(sample);
  writeSafetensors(path, src, { format: 'pt', note: 'x' });
  const back = readSafetensors(path);
  assert.deepEqual([...back.keys()].sort(), [...src.keys()].sort());
  for (const [name, t] of src) {
    const b = back.get(name)!;
    assert.equal(b.dtype, t.dtype, `${name} dtype`);
    assert.deepEqual(b.shape, t.shape, `${name} shape`);
    assert.deepEqual(b.toFlatArray(), t.toFlatArray(), `${name} values`);
  }
  assert.deepEqual(readSafetensorsMetadata(path), { format: 'pt', note: 'x' });
  // The layout: header padded to 8 bytes, every tensor aligned to its element size.
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  for (const e of readSafetensorsHeader(path).entries) assert.equal((8 + n + e.begin) % (e.end - e.begin === 0 ? 1 : src.get(e.name)!.toTypedArray().BYTES_PER_ELEMENT), 0, e.name);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  disposeAll([src, back]);
  assert.equal(liveTensors().count, live, 'every tensor made is disposed');
});

test('a file in the reference layout reads back exactly, and we write the same bytes', (t) => {
  let peer: PeerResult;
  try {
    peer = runPeer('safetensors_ref.py');
  } catch (e) {
    return assert.fail(String(e));
  }
  const file = join(peer.dir, 'ref.safetensors');
  const read = readSafetensors(file);
  const dtypes = peer.meta.dtypes as Record<string, string>;
  const ours: Record<string, DType> = { F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool' };
  assert.deepEqual([...read.keys()].sort(), [...peer.tensors.keys()].sort());
  for (const [name, want] of peer.tensors) {
    const got = read.get(name)!;
    assert.equal(got.dtype, ours[dtypes[name]!], `${name} dtype`);
    assert.deepEqual(got.shape, want.shape, `${name} shape`);
    tidy(() => assert.deepEqual(got.to(want.dtype).toFlatArray(), want.toFlatArray(), `${name} values`));
  }
  const again = serializeSafetensors(read, readSafetensorsMetadata(file));
  assert.ok(again.equals(readFileSync(file)), 'our writer lays the file out byte for byte as the reference layout');
  t.diagnostic(`${read.size} tensors, ${again.length} bytes identical`);
  disposeAll([read, peer.tensors]);
  rmSync(peer.dir, { recursive: true, force: true });
});

/** A file from a header object (or raw header text) and a data length. */
function craft(header: unknown, dataBytes: number, opts: { declaredLength?: bigint } = {}): Buffer {
  const text = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.declaredLength ?? BigInt(text.length));
  return Buffer.concat([len, text, Buffer.alloc(dataBytes)]);
}

const f32 = (shape: number[], offsets: [number, number]): unknown => ({ dtype: 'F32', shape, data_offsets: offsets });

const MALFORMED: [string, () => Buffer, RegExp][] = [
  ['shorter than the length field', () => Buffer.from([1, 2, 3]), /fewer than the 8-byte header length/],
  ['header length beyond the file', () => craft({ a: f32([1], [0, 4]) }, 4, { declaredLength: 5000n }), /header length 5000 runs past the end of the file/],
  ['oversized header', () => craft({}, 0, { declaredLength: 1n << 40n }), /exceeds the 100000000-byte limit/],
  ['bad JSON', () => craft('{"a": {"dtype": "F32",', 0), /header is not valid JSON/],
  ['JSON that is not an object', () => craft('[1, 2]', 0), /must be a JSON object/],
  ['invalid UTF-8', () => craft(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 0), /header is not valid UTF-8/],
  ['unknown dtype', () => craft({ w: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, 4), /tensor "w": dtype "F33" is not a safetensors dtype/],
  ['dtype libtorch lacks', () => craft({ w: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, 4), /tensor "w": dtype "U32" is valid safetensors but libtorch 1.13 has no such dtype/],
  ['offsets out of range', () => craft({ w: f32([4], [0, 16]) }, 8), /tensor "w": data_offsets \[0, 16\] run past the end of the data \(8 bytes\)/],
  ['huge claimed tensor', () => craft({ w: f32([1e12], [0, 4e12]) }, 8), /tensor "w": data_offsets \[0, 4000000000000\] run past the end/],
  ['overlapping offsets', () => craft({ a: f32([4], [0, 16]), b: f32([4], [8, 24]) }, 24), /tensor "b": data_offsets \[8, 24\] overlap tensor "a" \[0, 16\]/],
  ['a gap between tensors', () => craft({ a: f32([2], [0, 8]), b: f32([1], [12, 16]) }, 16), /tensor "b": data_offsets start at 12 but the previous tensor ends at 8/],
  ['trailing bytes', () => craft({ a: f32([2], [0, 8]) }, 12), /the data is 12 bytes but the tensors cover 8/],
  ['shape and offsets disagree', () => craft({ w: f32([2, 2], [0, 12]) }, 12), /tensor "w": shape \[2, 2\] of F32 needs 16 bytes but data_offsets \[0, 12\] span 12/],
  ['negative dimension', () => craft({ w: f32([-1], [0, 4]) }, 4), /tensor "w": expected a shape of non-negative integers but found \[-1\]/],
  ['reversed offsets', () => craft({ w: f32([1], [4, 0]) }, 4), /tensor "w": expected data_offsets \[begin, end\] with 0 <= begin <= end/],
  ['metadata that is not strings', () => craft({ __metadata__: { epoch: 3 } }, 0), /__metadata__.epoch must be a string but is 3/],
  ['BOOL bytes other than 0 and 1', () => Buffer.concat([craft({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, 0), Buffer.from([1, 7])]), /tensor "m": BOOL element 1 is byte 7/],
];

for (const [what, make, message] of MALFORMED) {
  test(`malformed: ${what} is a WEIGHTS error naming the file and the problem`, () => {
    const path = join(dir, `bad-${what.replace(/\W+/g, '-')}.safetensors`);
    writeFileSync(path, make());
    const live = liveTensors().count;
    assert.throws(
      () => readSafetensors(path),
      (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && e.message.startsWith(`${path}: `) && message.test(e.message),
    );
    assert.equal(liveTensors().count, live, 'nothing allocated survives the error');
  });
}

test('a truncated file is a WEIGHTS error wherever it is cut', () => {
  const good = serializeSafetensors(tidy(() => new Map([['a', randn([3, 3])], ['b', randn([5])]])));
  for (const cut of [0, 7, 8, 20, good.length - 40, good.length - 1]) {
    assert.throws(() => parseSafetensors(good.subarray(0, cut), 'cut.safetensors'), (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && /^cut\.safetensors: /.test(e.message), `cut at ${cut}`);
  }
});

test('a missing file is a FILE error; bad tensors and names are refused before writing', () => {
  assert.throws(() => readSafetensors(join(dir, 'nope.safetensors')), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /nope\.safetensors/.test(e.message));
  const path = join(dir, 'refused.safetensors');
  const t = randn([2]);
  assert.throws(() => writeSafetensors(path, { __metadata__: t }), (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT');
  assert.throws(() => writeSafetensors(path, { a: t }, { epoch: 3 as unknown as string }), (e: unknown) => e instanceof TlcvError && /metadata\.epoch/.test(e.message));
  t.dispose();
  assert.throws(() => writeSafetensors(path, { a: t }), (e: unknown) => e instanceof TlcvError && /disposed/.test(e.message));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('refused') || f.includes('refused.safetensors')), []);
});

test('random byte mutations never throw anything but a TlcvError (fast-check, 200 runs)', () => {
  const good = serializeSafetensors(
    tidy(() => new Map<string, Tensor>([['w', randn([2, 3])], ['b', tensor([1, 2], { dtype: 'int64' })], ['m', tensor([true, false])], ['h', randn([3]).to('float16')]])),
    { k: 'v' },
  );
  const live = liveTensors().count;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: good.length })), (edits, cut) => {
      const buf = Buffer.from(good.subarray(0, cut ?? good.length));
      for (const [at, byte] of edits) if (at < buf.length) buf[at] = byte;
      try {
        disposeAll(parseSafetensors(buf, 'fuzz.safetensors'));
      } catch (e) {
        if (!(e instanceof TlcvError)) throw e;
      }
    }),
    { numRuns: 200, seed: 42 },
  );
  assert.equal(liveTensors().count, live, 'no tensors leak from failed parses');
});
