/**
 * Runs a PyTorch peer script (test/peer/*.py) with the Python that has Debian's
 * python3-torch, and reads back the tensors it saved. Parity fixtures are made this way
 * in every test run, never by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fromTypedArray, type Tensor } from '../../src/tensor/index.js';
import type { DType } from '../../src/tensor/dtype.js';

export const PEER_PYTHON = process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3';

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

/** Reads a folder written by tlcv_peer.save (or by writePeerInput). */
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

/** Writes tensors for a peer script to read with tlcv_peer.load. */
export function writePeerInput(dir: string, tensors: Record<string, Tensor>, meta: Record<string, unknown> = {}): void {
  mkdirSync(dir, { recursive: true });
  const index: { tensors: Record<string, IndexEntry>; meta: Record<string, unknown> } = { tensors: {}, meta };
  Object.entries(tensors).forEach(([name, t], i) => {
    const file = `t${i}.bin`;
    const a = t.contiguous().toTypedArray();
    writeFileSync(join(dir, file), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    index.tensors[name] = { shape: t.shape, dtype: t.dtype, file };
  });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
}

/** Runs test/peer/<script> with the output folder as its first argument, then extra args. */
export function runPeer(script: string, args: string[] = []): PeerResult {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-peer-'));
  const path = resolve('test', 'peer', script);
  const r = spawnSync(PEER_PYTHON, [path, dir, ...args], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: resolve('test', 'peer') } });
  if (r.status !== 0) {
    throw new Error(`peer script ${script} failed (python: ${PEER_PYTHON}; install python3-torch):\n${r.stderr}`);
  }
  return readPeerDir(dir);
}
