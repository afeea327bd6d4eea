// Atomic writes: the target holds the old content or the new, never a mix; a write that fails
// midway (an error, a full disk, or the process killed with SIGKILL) leaves the old file intact;
// several files written as one change together or not at all; the async form (downloads) can
// refuse the data after it is on disk and before it replaces anything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { removeStaleTempFiles, writeFileAtomic, writeFileAtomicAsync, writeFilesAtomic, type FileOps } from '../src/io/atomic-write.js';
import { TlcvError } from '../src/errors.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tlcv-atomic-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const temps = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

test('writes strings, bytes and chunks, and leaves no temp file', () => {
  const path = join(dir, 'a.json');
  writeFileAtomic(path, '{"ü": 1}\n');
  assert.equal(readFileSync(path, 'utf8'), '{"ü": 1}\n');
  writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  writeFileAtomic(path, [new Uint8Array([9]), new Uint8Array(0), Buffer.from('xy')]);
  assert.deepEqual([...readFileSync(path)], [9, 0x78, 0x79]);
  assert.deepEqual(temps(), []);
});

test('an overwritten file keeps its permissions', () => {
  const path = join(dir, 'private.txt');
  writeFileSync(path, 'old');
  chmodSync(path, 0o600);
  writeFileAtomic(path, 'new');
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('a write that fails midway leaves the old file intact and removes the temp file', () => {
  const path = join(dir, 'checkpoint.bin');
  writeFileSync(path, 'old checkpoint');
  const boom = new Error('tensor read failed');
  function* chunks(): Generator<Uint8Array> {
    yield Buffer.alloc(1 << 20, 1);
    throw boom;
  }
  assert.throws(() => writeFileAtomic(path, chunks()), (e: unknown) => e === boom);
  assert.equal(readFileSync(path, 'utf8'), 'old checkpoint');
  assert.deepEqual(temps(), []);
});

test('a missing folder is a FILE error naming the path', () => {
  const path = join(dir, 'no', 'such', 'folder', 'x.json');
  assert.throws(() => writeFileAtomic(path, 'x'), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && e.message.includes(path));
});

test('a writer killed with SIGKILL mid-write leaves the old file intact', async () => {
  const path = join(dir, 'killed.bin');
  writeFileSync(path, 'old content');
  const module = pathToFileURL(resolve('dist/src/io/atomic-write.js')).href;
  // The child writes 1 MiB chunks slowly, forever; it is killed once its temp file exists.
  const script = `
    import { writeFileAtomic } from ${JSON.stringify(module)};
    const pause = new Int32Array(new SharedArrayBuffer(4));
    function* slow() { for (;;) { yield Buffer.alloc(1 << 20, 7); Atomics.wait(pause, 0, 0, 20); } }
    writeFileAtomic(${JSON.stringify(path)}, slow());`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
  const deadline = Date.now() + 10_000;
  while (temps().length === 0 || statSync(join(dir, temps()[0]!)).size < 2 << 20) {
    assert.ok(Date.now() < deadline, 'the child never started writing');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.equal(readFileSync(path, 'utf8'), 'old content');
  assert.ok(existsSync(path));
});

test('several files: a full disk while writing the second leaves both old files and no temp file', () => {
  const a = join(dir, 'pair-a.bin');
  const b = join(dir, 'pair-b.txt');
  writeFileSync(a, 'old a');
  writeFileSync(b, 'old b');
  const names = new Map<number, string>();
  const full: FileOps = {
    ...fs,
    openSync: ((p: string, flags: string, mode?: number) => {
      const fd = fs.openSync(p, flags, mode);
      names.set(fd, p);
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, buf: Uint8Array, off?: number, len?: number) => {
      if (names.get(fd)?.includes('.pair-b.txt.')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      return fs.writeSync(fd, buf, off, len);
    }) as typeof fs.writeSync,
  };
  assert.throws(
    () => writeFilesAtomic([{ path: a, data: Buffer.alloc(1 << 16, 1) }, { path: b, data: 'new b' }], { fs: full }),
    (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && e.message === `could not write ${b}: ENOSPC: no space left on device, write`,
  );
  assert.equal(readFileSync(a, 'utf8'), 'old a', 'the first file was not replaced either');
  assert.equal(readFileSync(b, 'utf8'), 'old b');
  assert.deepEqual(temps().filter((f) => f.includes('pair-')), []);
  writeFilesAtomic([{ path: a, data: 'new a' }, { path: b, data: 'new b' }]);
  assert.deepEqual([readFileSync(a, 'utf8'), readFileSync(b, 'utf8')], ['new a', 'new b']);
});

test('the async form writes chunks as they come, and a failed check leaves the target as it was', async () => {
  const path = join(dir, 'download.bin');
  writeFileSync(path, 'old download');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('new ');
    await new Promise((r) => setTimeout(r, 5));
    yield Buffer.from('download');
  }
  const refused = new Error('sha256 mismatch');
  await assert.rejects(writeFileAtomicAsync(path, chunks(), { check: () => { throw refused; } }), (e: unknown) => e === refused);
  assert.equal(readFileSync(path, 'utf8'), 'old download');
  assert.deepEqual(temps().filter((f) => f.includes('download')), []);
  await writeFileAtomicAsync(path, chunks());
  assert.equal(readFileSync(path, 'utf8'), 'new download');
});

test('temp files of a dead writer are removed; a live writer\'s are kept', () => {
  const dead = join(dir, '.model.safetensors.999999999.0123456789ab.tmp');
  const live = join(dir, `.model.safetensors.${process.pid}.0123456789ab.tmp`);
  writeFileSync(dead, 'half');
  writeFileSync(live, 'being written');
  removeStaleTempFiles(dir);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(live), true);
  rmSync(live);
});
