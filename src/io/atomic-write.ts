/**
 * Atomic file writes: the data goes to a temporary file in the target's folder, is flushed
 * to disk, then renamed over the target. A reader sees the old file or the new one, never
 * half of one, and a write that fails (or is killed) midway leaves the old file as it was.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { TlcvError } from '../errors.js';

/** A string (written as UTF-8), bytes, or chunks of bytes produced one at a time. */
export type FileData = string | Uint8Array | Iterable<Uint8Array>;

/**
 * Writes `data` to `path` atomically (temp file in the same folder, fsync, rename). An
 * existing file keeps its permissions. Errors from the file system are TlcvError('FILE');
 * an error thrown by a chunk iterator is rethrown as it is, after the temp file is removed.
 *
 * @example
 * writeFileAtomic('runs/a/config.json', JSON.stringify(config, null, 2));
 * writeFileAtomic('model.safetensors', chunks()); // a generator of Uint8Array
 */
export function writeFileAtomic(path: string, data: FileData): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = existingMode(path);
  let fd = -1;
  let created = false;
  try {
    fd = openSync(tmp, 'wx', 0o666);
    created = true;
    if (mode !== null) fchmodSync(fd, mode);
    writeAll(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeQuietly(fd);
    if (created) removeQuietly(tmp);
    throw isFsError(e) ? new TlcvError('FILE', `could not write ${path}: ${e.message}`) : e;
  }
  syncFolder(dir);
}

function writeAll(fd: number, data: FileData): void {
  if (typeof data === 'string') {
    writeChunk(fd, Buffer.from(data, 'utf8'));
  } else if (data instanceof Uint8Array) {
    writeChunk(fd, data);
  } else {
    for (const chunk of data) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`writeFileAtomic: a chunk is ${typeof chunk}, not a Uint8Array`);
      writeChunk(fd, chunk);
    }
  }
}

function writeChunk(fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.byteLength) done += writeSync(fd, chunk, done, chunk.byteLength - done);
}

function existingMode(path: string): number | null {
  try {
    return statSync(path).mode & 0o7777;
  } catch {
    return null;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never made
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // the original error matters more
  }
}

/** The rename is only durable once the folder entry is on disk; some systems cannot fsync a folder. */
function syncFolder(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd >= 0) closeQuietly(fd);
  }
}

function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
