/**
 * Runs a PyTorch peer script (test/peer/*.py) with the Python that has Debian's
 * python3-torch, and reads back the tensors it saved. Parity fixtures are made this way
 * in every test run, never by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPeerDir, type PeerResult } from '../../src/io/peer-files.js';
import { disposeAll, liveTensors, type Tensor } from '../../src/tensor/index.js';

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

/** A reader of the peer's tensors by name: a missing one fails the test, naming it. */
export function peerGetter(t: Map<string, Tensor>): (k: string) => Tensor {
  return (k) => {
    const v = t.get(k);
    assert.ok(v !== undefined, `peer fixture lacks ${k}`);
    return v;
  };
}

/**
 * A peer fixture shared by a test file's tests: run now, its tensors and folder released after
 * them, with no tensor of the file's outliving them.
 *
 * @example
 * const { peer, get } = peerFixture('transformer_blocks.py', ['23', '2']);
 */
export function peerFixture(script: string, args: string[] = []): { peer: PeerResult; get: (k: string) => Tensor } {
  const before = liveTensors().count;
  const peer = runPeer(script, args);
  after(() => {
    disposeAll(peer.tensors);
    rmSync(peer.dir, { recursive: true, force: true });
    assert.equal(liveTensors().count, before, 'no tensor outlives the tests');
  });
  return { peer, get: peerGetter(peer.tensors) };
}
