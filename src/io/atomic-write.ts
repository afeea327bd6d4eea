/**
 * Atomic file writes, the one way tlcv puts a file on disk: the data goes to a temporary file in
 * the target's folder, is flushed to disk, then renamed over the target. A reader sees the old
 * file or the new one, never half of one, and a write that fails (disk full) or is killed midway
 * leaves the old file as it was. Several files can be written as one: every temporary file is
 * complete before the first rename, so a full disk leaves all the old files or none of them.
 */
import * as nodeFs from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { TlcvError } from '../errors.js';

/** A string (written as UTF-8), bytes, or chunks of bytes produced one at a time. */
export type FileData = string | Uint8Array | Iterable<Uint8Array>;

/** One file of a {@link writeFilesAtomic} call. */
export interface AtomicFile {
  path: string;
  data: FileData;
}

/** The synchronous file calls an atomic write makes; tests pass their own to simulate a full disk. */
export type FileOps = Pick<typeof nodeFs, 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'unlinkSync' | 'fchmodSync' | 'statSync'>;

export interface AtomicOptions {
  fs?: FileOps;
}

/** `.NAME.PID.HEX.tmp`: the pid lets {@link removeStaleTempFiles} tell a dead writer's file from a live one's. */
function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` atomically (temp file in the same folder, fsync, rename). An existing
 * file keeps its permissions. Errors from the file system are TlcvError('FILE') naming the path;
 * an error thrown by a chunk iterator is rethrown as it is, after the temp file is removed.
 *
 * @example
 * writeFileAtomic('runs/a/config.json', JSON.stringify(config, null, 2));
 * writeFileAtomic('model.safetensors', chunks()); // a generator of Uint8Array
 */
export function writeFileAtomic(path: string, data: FileData, o: AtomicOptions = {}): void {
  writeFilesAtomic([{ path, data }], o);
}

/**
 * Writes several files so that a failure while writing any of them (ENOSPC, an I/O error, a
 * throwing chunk iterator) changes none: all temporary files are written and flushed first, and
 * only then renamed over their targets. Renames need no space, so a full disk cannot split them.
 *
 * @example
 * writeFilesAtomic([{ path: 'run/checkpoint.safetensors', data: chunks }, { path: 'run/metrics.jsonl', data: lines }]);
 */
export function writeFilesAtomic(files: AtomicFile[], o: AtomicOptions = {}): void {
  const fs = o.fs ?? nodeFs;
  const temps: string[] = [];
  try {
    for (const f of files) {
      const tmp = tempPath(f.path);
      writeTemp(fs, f.path, tmp, f.data, temps);
    }
    files.forEach((f, i) => renameOrFail(fs, temps[i]!, f.path));
  } catch (e) {
    for (const t of temps) removeQuietly(fs, t);
    throw e;
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) syncFolder(dir);
}

function writeTemp(fs: FileOps, path: string, tmp: string, data: FileData, temps: string[]): void {
  const mode = existingMode(fs, path);
  let fd = -1;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    temps.push(tmp);
    if (mode !== null) fs.fchmodSync(fd, mode);
    writeAll(fs, fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
  } catch (e) {
    if (fd >= 0) closeQuietly(fs, fd);
    throw isFsError(e) ? new TlcvError('FILE', `could not write ${path}: ${e.message}`) : e;
  }
}

function renameOrFail(fs: FileOps, tmp: string, path: string): void {
  try {
    fs.renameSync(tmp, path);
  } catch (e) {
    throw isFsError(e) ? new TlcvError('FILE', `could not write ${path}: ${e.message}`) : e;
  }
}

/**
 * {@link writeFileAtomic} without blocking the event loop, for data that arrives over time (a
 * download). `check` runs once every byte is on disk and before the rename: throwing there (a
 * checksum that does not match) discards the file and leaves the target as it was.
 *
 * @example
 * await writeFileAtomicAsync('grid.png', pngBytes);
 */
export async function writeFileAtomicAsync(path: string, data: FileData | AsyncIterable<Uint8Array>, o: { check?: () => void } = {}): Promise<void> {
  const tmp = tempPath(path);
  const mode = existingMode(nodeFs, path);
  let made = false;
  try {
    const handle = await open(tmp, 'wx', 0o666);
    made = true;
    try {
      if (mode !== null) await handle.chmod(mode);
      const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError(`writeFileAtomicAsync: a chunk is ${typeof chunk}, not a Uint8Array`);
        await handle.write(chunk);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    o.check?.();
    await rename(tmp, path);
  } catch (e) {
    if (made) await unlink(tmp).catch(() => undefined);
    throw isFsError(e) ? new TlcvError('FILE', `could not write ${path}: ${e.message}`) : e;
  }
  syncFolder(dirname(path));
}

function writeAll(fs: FileOps, fd: number, data: FileData): void {
  if (typeof data === 'string') {
    writeChunk(fs, fd, Buffer.from(data, 'utf8'));
  } else if (data instanceof Uint8Array) {
    writeChunk(fs, fd, data);
  } else {
    for (const chunk of data) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`writeFileAtomic: a chunk is ${typeof chunk}, not a Uint8Array`);
      writeChunk(fs, fd, chunk);
    }
  }
}

function writeChunk(fs: FileOps, fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.byteLength) done += fs.writeSync(fd, chunk, done, chunk.byteLength - done);
}

function existingMode(fs: FileOps, path: string): number | null {
  try {
    return fs.statSync(path).mode & 0o7777;
  } catch {
    return null;
  }
}

function removeQuietly(fs: FileOps, path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // already gone, or never made
  }
}

function closeQuietly(fs: FileOps, fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // the original error matters more
  }
}

/** The rename is only durable once the folder entry is on disk; some systems cannot fsync a folder. */
function syncFolder(dir: string): void {
  let fd = -1;
  try {
    fd = nodeFs.openSync(dir, 'r');
    nodeFs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd >= 0) closeQuietly(nodeFs, fd);
  }
}

function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of atomic writes that a killed process left in `dir`: a checkpoint's
 * can be as large as the model and its optimizer state. Files of a process still running are
 * left alone.
 *
 * @example
 * removeStaleTempFiles('runs/a'); // before resuming a run that was killed mid-write
 */
export function removeStaleTempFiles(dir: string): void {
  for (const name of nodeFs.readdirSync(dir)) {
    const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) nodeFs.rmSync(join(dir, name), { force: true });
  }
}
