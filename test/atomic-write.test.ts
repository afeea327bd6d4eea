// Atomic writes: the target holds the old content or the new, never a mix; a write that fails
// midway (an error, or the process killed with SIGKILL) leaves the old file intact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../src/io/atomic-write.js';
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
