/**
 * A minimal zip reader for torch.save archives: central directory (zip64 included), stored
 * and deflated entries, CRC-checked. Every offset and size is checked against the file
 * before it is used, so a damaged archive is a WEIGHTS error, not a crash.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { weightsError, type ByteSource } from './byte-source.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

function u64(buf: Buffer, at: number, file: string, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw weightsError(file, `zip ${what} ${v} is too large`);
  return Number(v);
}

/** Reads the central directory; entry names map to their records. */
export function readZipDirectory(src: ByteSource): Map<string, ZipEntry> {
  const file = src.name;
  const tailLen = Math.min(src.size, 22 + MAX_COMMENT);
  const tail = src.read(src.size - tailLen, tailLen);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i -= 1) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw weightsError(file, 'not a zip archive (no end-of-central-directory record)');
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const eocdAt = src.size - tailLen + at;
    if (eocdAt < 20) throw weightsError(file, 'zip64 archive without its locator');
    const loc = src.read(eocdAt - 20, 20);
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR) throw weightsError(file, 'zip64 archive without its locator');
    const rec = src.read(u64(loc, 8, file, 'zip64 record offset'), 56);
    if (rec.readUInt32LE(0) !== EOCD64) throw weightsError(file, 'zip64 end-of-central-directory record is missing');
    count = u64(rec, 32, file, 'entry count');
    cdSize = u64(rec, 40, file, 'central directory size');
    cdOffset = u64(rec, 48, file, 'central directory offset');
  }
  if (cdOffset + cdSize > src.size || count * 46 > cdSize) {
    throw weightsError(file, `zip central directory (${count} entries, ${cdSize} bytes at ${cdOffset}) does not fit the ${src.size}-byte file`);
  }
  const cd = src.read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i += 1) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw weightsError(file, `zip central directory entry ${i} is damaged`);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw weightsError(file, `zip central directory entry ${i} runs past the directory`);
    const e: ZipEntry = {
      name: cd.toString('utf8', p + 46, p + 46 + nameLen),
      flags: cd.readUInt16LE(p + 8),
      method: cd.readUInt16LE(p + 10),
      crc32: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localHeaderOffset: cd.readUInt32LE(p + 42),
    };
    applyZip64Extra(e, cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), file);
    entries.set(e.name, e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Sizes and offsets that do not fit 32 bits live in the zip64 extra field, in this order. */
function applyZip64Extra(e: ZipEntry, extra: Buffer, file: string): void {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (p + 4 + len > extra.length) break;
    if (id === 0x0001) {
      let q = p + 4;
      const next = (what: string): number => {
        if (q + 8 > p + 4 + len) throw weightsError(file, `zip entry ${e.name}: zip64 field lacks its ${what}`);
        const v = u64(extra, q, file, what);
        q += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = next('size');
      if (e.compressedSize === 0xffffffff) e.compressedSize = next('compressed size');
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next('offset');
    }
    p += 4 + len;
  }
}

/** The entry's bytes, checked against its size and CRC-32. */
export function readZipEntry(src: ByteSource, e: ZipEntry): Buffer {
  const file = src.name;
  if (e.flags & 1) throw weightsError(file, `zip entry ${e.name} is encrypted`);
  const local = src.read(e.localHeaderOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL) throw weightsError(file, `zip entry ${e.name}: no local header at offset ${e.localHeaderOffset}`);
  const start = e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (start + e.compressedSize > src.size) throw weightsError(file, `zip entry ${e.name}: ${e.compressedSize} bytes at ${start} run past the end of the file (${src.size} bytes)`);
  const raw = src.read(start, e.compressedSize);
  let data: Buffer;
  if (e.method === 0) {
    if (e.compressedSize !== e.size) throw weightsError(file, `zip entry ${e.name}: stored entry with size ${e.size} but ${e.compressedSize} bytes`);
    data = raw;
  } else if (e.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      throw weightsError(file, `zip entry ${e.name}: deflate data is damaged (${(err as Error).message})`);
    }
    if (data.length !== e.size) throw weightsError(file, `zip entry ${e.name}: inflated to ${data.length} bytes, expected ${e.size}`);
  } else {
    throw weightsError(file, `zip entry ${e.name}: compression method ${e.method} is not supported (only stored and deflate)`);
  }
  if (crc32(data) >>> 0 !== e.crc32 >>> 0) throw weightsError(file, `zip entry ${e.name}: CRC-32 mismatch (damaged file)`);
  return data;
}
