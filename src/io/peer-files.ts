/**
 * The folder format tlcv and its PyTorch peers exchange tensors in (test/peer/tlcv_peer.py reads
 * and writes it): index.json naming each tensor's shape, dtype and raw little-endian file.
 * Parity tests and the bench's peer comparisons both use it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromTypedArray, tidy, type Tensor } from '../tensor/index.js';
import type { DType } from '../tensor/dtype.js';

export interface PeerResult {
  tensors: Map<string, Tensor>;
  meta: Record<string, unknown>;
  dir: string;
}

const ARRAYS: Record<string, (b: Buffer) => ArrayBufferView> = {
  float32: (b) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4),
  float64: (b) => new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8),
  int64: (b) => new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8),
  int32: (b) => new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4),
  uint8: (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  bool: (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
};

interface IndexEntry {
  shape: number[];
  dtype: string;
  file: string;
}

/**
 * Reads a folder written by tlcv_peer.save (or by writePeerInput); the tensors belong to the caller.
 *
 * @example
 * const { tensors, meta } = readPeerDir('out');
 */
export function readPeerDir(dir: string): PeerResult {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { tensors: Record<string, IndexEntry>; meta?: Record<string, unknown> };
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(index.tensors)) {
    const raw = readFileSync(join(dir, e.file));
    const copy = Buffer.from(raw); // aligned copy
    tensors.set(name, fromTypedArray(ARRAYS[e.dtype]!(copy), e.shape, { dtype: e.dtype as DType }));
  }
  return { tensors, meta: index.meta ?? {}, dir };
}

/**
 * Writes tensors for a peer script to read with tlcv_peer.load.
 *
 * @example
 * writePeerInput('in', { support, query }, { numClasses: 10 });
 */
export function writePeerInput(dir: string, tensors: Record<string, Tensor>, meta: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const index: { tensors: Record<string, IndexEntry>; meta: Record<string, unknown> } = { tensors: {}, meta };
  Object.entries(tensors).forEach(([name, t], i) => {
    const file = `t${i}.bin`;
    // contiguous() is a new handle even when it is t's own storage: freed with the scope.
    const a = tidy(() => t.contiguous().toTypedArray());
    writeFileSync(join(dir, file), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    index.tensors[name] = { shape: t.shape, dtype: t.dtype, file };
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
}

