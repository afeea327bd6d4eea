/**
 * Runs a PyTorch peer script (test/peer/*.py) with the Python that has Debian's
 * python3-torch, and reads back the tensors it saved. Parity fixtures are made this way
 * in every test run, never by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPeerDir, type PeerResult } from '../../src/io/peer-files.js';

export const PEER_PYTHON = process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3';

export { readPeerDir, writePeerInput, type PeerResult } from '../../src/io/peer-files.js';

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
