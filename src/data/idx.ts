/**
 * IDX files (MNIST, Fashion-MNIST, EMNIST), raw or gzipped. The header is checked against
 * the file before anything big is allocated: a header that claims more data than the file
 * can hold fails at once, whatever it says.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { constants as zlibConstants, gunzip, gunzipSync } from 'node:zlib';
import { TlcvError } from '../errors.js';
import { checkDataset, type ImageDataset } from './dataset.js';

const gunzipAsync = promisify(gunzip);
const UINT8 = 0x08;
const DTYPE_NAMES: Record<number, string> = { 0x08: 'uint8', 0x09: 'int8', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };
/** The most data tlcv reads from one IDX file; real ones are far smaller (MNIST train: 47 MB). */
export const IDX_MAX_BYTES = 2 ** 31;
/** deflate's best case is about 1032:1, so a smaller file cannot honestly hold more. */
const MAX_DEFLATE_RATIO = 1040;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

interface IdxHeader {
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

function fail(path: string, why: string): TlcvError {
  return new TlcvError('DATA', `IDX file ${path}: ${why}`);
}

function parseHeader(path: string, head: Uint8Array, expectDims?: number): IdxHeader {
  if (head.length < 4) throw fail(path, `truncated: ${head.length} bytes, too short for the 4-byte magic number`);
  if (head[0] !== 0 || head[1] !== 0) {
    throw fail(path, `wrong magic number 0x${[...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('')}: expected 0x0000TTNN (TT = dtype, NN = dimensions)`);
  }
  const dtype = head[2]!;
  if (dtype !== UINT8) throw fail(path, `dtype byte 0x${dtype.toString(16).padStart(2, '0')} (${DTYPE_NAMES[dtype] ?? 'unknown'}): tlcv reads only 0x08 (uint8)`);
  const nd = head[3]!;
  if (nd < 1 || nd > 4) throw fail(path, `${nd} dimensions: expected 1 to 4`);
  if (expectDims !== undefined && nd !== expectDims) {
    throw fail(path, `${nd} dimensions: expected ${expectDims} (${expectDims === 1 ? 'count' : 'count, rows, columns'})`);
  }
  const headerBytes = 4 + 4 * nd;
  if (head.length < headerBytes) throw fail(path, `truncated header: ${head.length} bytes, expected ${headerBytes}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims = Array.from({ length: nd }, (_, i) => view.getUint32(4 + 4 * i, false));
  const dataBytes = dims.reduce((a, b) => a * b, 1);
  if (dataBytes > IDX_MAX_BYTES) throw fail(path, `header claims dimensions [${dims.join(', ')}] = ${dataBytes} bytes, over the ${IDX_MAX_BYTES}-byte limit`);
  return { dims, headerBytes, dataBytes };
}

async function readRaw(path: string, size: number, expectDims?: number): Promise<IdxArray> {
  const fh = await open(path, 'r');
  let header: IdxHeader;
  try {
    const head = new Uint8Array(Math.min(20, size));
    await fh.read(head, 0, head.length, 0);
    header = parseHeader(path, head, expectDims);
  } finally {
    await fh.close();
  }
  const expected = header.headerBytes + header.dataBytes;
  if (size !== expected) {
    const why = size < expected ? 'truncated' : 'has trailing bytes';
    throw fail(path, `${why}: the header's dimensions [${header.dims.join(', ')}] need ${expected} bytes, the file has ${size}`);
  }
  const buf = await readFile(path);
  return { dims: header.dims, data: buf.subarray(header.headerBytes) };
}

async function readGzipped(path: string, size: number, expectDims?: number): Promise<IdxArray> {
  const compressed = await readFile(path);
  let head: Uint8Array;
  try {
    // Inflate only the first block: enough for the header, whatever the header claims.
    head = gunzipSync(compressed.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (e) {
    throw fail(path, `not a valid gzip file (${(e as Error).message})`);
  }
  const header = parseHeader(path, head, expectDims);
  const expected = header.headerBytes + header.dataBytes;
  const isize = compressed.length >= 4 ? compressed.readUInt32LE(compressed.length - 4) : -1;
  // The gzip trailer stores the true size (mod 2^32) of a single-member file, as gzip writes
  // them; a mismatch means a lying header or a cut file, found before inflating anything big.
  if (expected > size * MAX_DEFLATE_RATIO + 1024 || isize !== expected % 2 ** 32) {
    const found = isize >= 0 ? `its gzip trailer says ${isize} bytes` : 'it is too short';
    throw fail(path, `the header's dimensions [${header.dims.join(', ')}] need ${expected} bytes after decompression, but ${found}: truncated or corrupt`);
  }
  let raw: Buffer;
  try {
    raw = await gunzipAsync(compressed, { maxOutputLength: Math.max(expected, 1) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw fail(path, `holds more data than its header says (${expected} bytes)`);
    throw fail(path, `truncated or corrupt gzip data (${err.message})`);
  }
  if (raw.length !== expected) throw fail(path, `truncated: the header's dimensions [${header.dims.join(', ')}] need ${expected} bytes, decompressed ${raw.length}`);
  return { dims: header.dims, data: raw.subarray(header.headerBytes) };
}

/**
 * Reads one IDX file of uint8 values, raw or gzip (detected by content, not by name).
 *
 * @example
 * const { dims, data } = await readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 */
export async function readIdx(path: string, expectDims?: number): Promise<IdxArray> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new TlcvError('FILE', `IDX file ${path} is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof TlcvError) throw e;
    throw new TlcvError('FILE', `cannot read IDX file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const fh = await open(path, 'r');
  const magic = new Uint8Array(2);
  try {
    await fh.read(magic, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const gzipped = size >= 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  return gzipped ? readGzipped(path, size, expectDims) : readRaw(path, size, expectDims);
}

export interface IdxDatasetOptions {
  /** Class names; labels must be below their count. Default: "0".."max label". */
  classes?: string[];
  name?: string;
}

/**
 * An ImageDataset from an IDX images file (count, rows, columns) and an IDX labels file.
 *
 * @example
 * const ds = await readIdxDataset('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', { classes: DIGITS });
 */
export async function readIdxDataset(imagesPath: string, labelsPath: string, opts: IdxDatasetOptions = {}): Promise<ImageDataset> {
  const [images, labels] = await Promise.all([readIdx(imagesPath, 3), readIdx(labelsPath, 1)]);
  const [n, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new TlcvError('DATA', `IDX files disagree: ${imagesPath} holds ${n} images but ${labelsPath} holds ${labels.dims[0]} labels`);
  }
  let max = -1;
  for (const y of labels.data) if (y > max) max = y;
  const classes = opts.classes ?? Array.from({ length: max + 1 }, (_, i) => String(i));
  if (max >= classes.length) {
    const at = labels.data.indexOf(max);
    throw fail(labelsPath, `label ${max} (item ${at}) is out of range: expected labels in [0, ${classes.length}) for ${classes.length} classes`);
  }
  return checkDataset({
    name: opts.name ?? basename(imagesPath),
    images: images.data,
    labels: Int32Array.from(labels.data),
    n,
    channels: 1,
    height,
    width,
    classes,
    source: `${imagesPath} + ${basename(labelsPath)}`,
  });
}

/** Encodes uint8 data as an IDX file (used by tests and by tools that export data). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UINT8;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
