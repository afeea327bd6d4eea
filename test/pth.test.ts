// readPth: torch.save files read without running pickled code. A torchvision resnet18 state
// dict comes back key for key and bit for bit; views, every dtype, checkpoints, deflated and
// big-endian archives read correctly; a pickle that would run os.system or exec is refused
// without running it (the marker file its payload makes stays absent, while torch.load on the
// same file does make it); damaged archives are WEIGHTS errors; fuzzed pickles never escape as
// anything but a TlcvError.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { runPeer, type PeerResult } from './helpers/peer.js';
import { disposeAll, liveTensors, tidy, type Tensor } from '../src/tensor/index.js';
import { invoke } from '../src/tensor/invoke.js';
import { TlcvError } from '../src/errors.js';
import { readPth } from '../src/io/pth.js';
import { loadPickledStateDict } from '../src/io/pth-pickle.js';
import { bufferSource } from '../src/io/byte-source.js';
import { readZipDirectory, readZipEntry } from '../src/io/zip.js';

let peer: PeerResult;
let scratch: string;
let marker: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tlcv-pth-'));
  marker = join(scratch, 'PWNED');
  peer = runPeer('pth_fixtures.py', [marker]);
});
after(() => {
  disposeAll(peer.tensors);
  rmSync(peer.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const fixture = (name: string): string => join(peer.dir, name);
const isWeightsError = (re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && re.test(e.message);

function assertSame(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  tidy(() => assert.equal(invoke('equal', [got.to(want.dtype), want]), true, `${what}: values`));
}

test('a torchvision resnet18 state dict reads back key for key, bit for bit', () => {
  const live = liveTensors().count;
  const sd = readPth(fixture('resnet18.pth'));
  assert.deepEqual([...sd.keys()], peer.meta.resnetKeys);
  assert.equal(sd.size, 122, '62 parameters and 60 BatchNorm buffers');
  for (const [k, t] of sd) {
    const want = peer.tensors.get(`resnet.${k}`)!;
    assert.equal(t.dtype, want.dtype, `${k}: dtype`);
    assertSame(t, want, k);
  }
  disposeAll(sd);
  assert.equal(liveTensors().count, live, 'storages and intermediates are freed');
});

test('views, every dtype, scalars, empty tensors and parameters read as torch.load reads them', () => {
  const sd = readPth(fixture('views.pth'));
  const dtypes = peer.meta.viewDtypes as Record<string, string>;
  const ours: Record<string, string> = { float32: 'float32', float64: 'float64', float16: 'float16', bfloat16: 'bfloat16', int64: 'int64', int32: 'int32', int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool' };
  assert.deepEqual([...sd.keys()], peer.meta.viewKeys);
  for (const [k, t] of sd) {
    assert.equal(t.dtype, ours[dtypes[k]!], `${k}: dtype`);
    assertSame(t, peer.tensors.get(`views.${k}`)!, k);
  }
  // base, transposed and sliced share one storage, as they did when saved.
  sd.get('base')!.add_(100);
  assert.equal(sd.get('transposed')!.toArray().toString(), peer.tensors.get('views.transposed')!.toFlatArray().map((v) => v + 100).toString());
  assert.deepEqual(sd.get('sliced')!.toFlatArray(), peer.tensors.get('views.sliced')!.toFlatArray().map((v) => v + 100));
  disposeAll(sd);
});

test('a checkpoint dict, a deflated archive, the legacy format and a big-endian archive read correctly', () => {
  for (const file of ['checkpoint.pth', 'deflate.pth', 'legacy.pth']) {
    const sd = readPth(fixture(file));
    assert.deepEqual([...sd.keys()], peer.meta.viewKeys, file);
    for (const [k, t] of sd) assertSame(t, peer.tensors.get(`views.${k}`)!, `${file} ${k}`);
    disposeAll(sd);
  }
  const big = readPth(fixture('bigendian.pth'));
  assert.deepEqual([...big.keys()], ['f', 'd', 'l', 'h']);
  for (const [k, t] of big) assertSame(t, peer.tensors.get(`big.${k}`)!, `big-endian ${k}`);
  disposeAll(big);
});

test('a pickle that would run os.system or exec is refused, and nothing runs', () => {
  const live = liveTensors().count;
  assert.throws(() => readPth(fixture('evil.pth')), isWeightsError(/evil\.pth: refusing to load: pickle uses GLOBAL posix\.system which could execute code/));
  assert.throws(() => readPth(fixture('evil-legacy.pth')), isWeightsError(/evil-legacy\.pth: refusing to load: pickle uses GLOBAL posix\.system/));
  assert.throws(() => readPth(fixture('evil-exec.pth')), isWeightsError(/refusing to load: pickle uses GLOBAL (__builtin__|builtins)\.exec which could execute code/));
  assert.equal(existsSync(marker), false, 'the payload did not run');
  assert.equal(liveTensors().count, live, 'tensors made before the refusal are freed');
  // The control: PyTorch's own loader runs the payload, so the fixture really is malicious.
  const control = runPeer('pth_load.py', [fixture('evil.pth')]);
  rmSync(control.dir, { recursive: true, force: true });
  assert.equal(existsSync(marker), true, 'torch.load ran the payload');
});

test('damaged and foreign files are WEIGHTS errors naming the file', () => {
  const good = readFileSync(fixture('views.pth'));
  const write = (name: string, bytes: Buffer): string => {
    const p = join(scratch, name);
    writeFileSync(p, bytes);
    return p;
  };
  const cut = write('cut.pth', good.subarray(0, good.length - 100));
  assert.throws(() => readPth(cut), isWeightsError(/cut\.pth: /));
  // Flip one byte inside the first storage's data: its CRC no longer matches.
  const entry = readZipDirectory(bufferSource(good)).get('views/data/0')!;
  const at = entry.localHeaderOffset + 30 + good.readUInt16LE(entry.localHeaderOffset + 26) + good.readUInt16LE(entry.localHeaderOffset + 28) + 5;
  const flipped = Buffer.from(good);
  flipped[at] = flipped[at]! ^ 0xff;
  assert.throws(() => readPth(write('flipped.pth', flipped)), isWeightsError(/flipped\.pth: zip entry views\/data\/0: CRC-32 mismatch/));
  assert.throws(() => readPth(write('text.pth', Buffer.from('not a zip at all'))), isWeightsError(/text\.pth: not a zip archive/));
  assert.throws(() => readPth(write('legacy-cut.pth', Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]))), isWeightsError(/legacy-cut\.pth: pickle is truncated/));
  const legacy = readFileSync(fixture('legacy.pth'));
  assert.throws(() => readPth(write('legacy-short.pth', legacy.subarray(0, legacy.length - 10))), isWeightsError(/legacy-short\.pth: truncated/));
  assert.throws(() => readPth(join(scratch, 'missing.pth')), (e: unknown) => e instanceof TlcvError && e.code === 'FILE');
});

test('refused opcodes: INST, OBJ, NEWOBJ and unknown ones stop the load', () => {
  const noStorage = (): Buffer => assert.fail('no storage should be read');
  const cases: [string, Buffer, RegExp][] = [
    ['INST', Buffer.from("(S'touch x'\nios\nsystem\n.", 'latin1'), /opcode 0x53|opcode INST/],
    ['INST alone', Buffer.from('(ios\nsystem\n.', 'latin1'), /opcode INST/],
    ['OBJ', Buffer.from([0x28, 0x6f, 0x2e]), /opcode OBJ/],
    ['NEWOBJ', Buffer.from([0x80, 0x02, 0x29, 0x29, 0x81, 0x2e]), /opcode NEWOBJ/],
    ['GLOBAL copyreg', Buffer.from('\x80\x02ccopyreg\n_reconstructor\n).', 'latin1'), /GLOBAL copyreg\._reconstructor/],
    ['REDUCE on a storage type', Buffer.from('\x80\x02ctorch\nFloatStorage\n)R.', 'latin1'), /REDUCE on torch\.FloatStorage/],
  ];
  for (const [what, pkl, re] of cases) {
    assert.throws(() => loadPickledStateDict(pkl, noStorage, `${what}.pkl`), isWeightsError(re), what);
  }
});

test('fuzzed pickles never throw anything but a TlcvError (fast-check, 200 runs)', () => {
  const src = bufferSource(readFileSync(fixture('views.pth')), 'views.pth');
  const entries = readZipDirectory(src);
  const pkl = readZipEntry(src, entries.get('views/data.pkl')!);
  const storages = (key: string, itemSize: number, numel: number): Buffer => {
    const e = entries.get(`views/data/${key}`);
    if (e === undefined || e.size !== itemSize * numel) throw new TlcvError('WEIGHTS', `no storage ${key} of ${itemSize * numel} bytes`);
    return readZipEntry(src, e);
  };
  const live = liveTensors().count;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: pkl.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const bad = Buffer.from(pkl);
      for (const [at, byte] of edits) bad[at] = byte;
      try {
        disposeAll(loadPickledStateDict(bad, storages, 'fuzz.pkl'));
      } catch (e) {
        if (!(e instanceof TlcvError)) throw e;
      }
    }),
    { numRuns: 200, seed: 7 },
  );
  assert.equal(liveTensors().count, live);
});
