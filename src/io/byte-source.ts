/**
 * Random-access reads from a file or a buffer, so parsers check a header before they read
 * (or allocate for) the data it describes, and read each byte of a large file once.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TlcvError } from '../errors.js';

export interface ByteSource {
  /** The file path (or a label for a buffer), for error messages. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`; a range past the end is a WEIGHTS error. */
  read(offset: number, length: number): Buffer;
  close(): void;
}

export function weightsError(file: string, what: string): TlcvError {
  return new TlcvError('WEIGHTS', `${file}: ${what}`);
}

function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw weightsError(name, `truncated: needed bytes ${offset}..${offset + length} but the file has ${size} bytes`);
  }
}

export function bufferSource(buf: Uint8Array, name = '<buffer>'): ByteSource {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    name,
    size: b.byteLength,
    read(offset, length) {
      checkRange(name, b.byteLength, offset, length);
      return b.subarray(offset, offset + length);
    },
    close() {},
  };
}

/** Opens a file for reading; missing or unreadable files are TlcvError('FILE'). */
export function fileSource(path: string): ByteSource {
  let fd: number;
  let size: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TlcvError('FILE', `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TlcvError('FILE', `cannot read ${path}: not a regular file`);
    size = st.size;
  } catch (e) {
    closeSync(fd);
    throw e instanceof TlcvError ? e : new TlcvError('FILE', `cannot read ${path}: ${(e as Error).message}`);
  }
  return {
    name: path,
    size,
    read(offset, length) {
      checkRange(path, size, offset, length);
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw weightsError(path, `truncated: the file ended at byte ${offset + done} while reading ${length} bytes at ${offset}`);
        done += n;
      }
      return out;
    },
    close() {
      closeSync(fd);
    },
  };
}

export function withSource<T>(src: ByteSource, fn: (src: ByteSource) => T): T {
  try {
    return fn(src);
  } finally {
    src.close();
  }
}
