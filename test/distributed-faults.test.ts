// Faults in a two-process run on loopback, started by tlcv's launcher: a worker killed with
// SIGKILL, the worker that hosts the store killed, a frozen worker (SIGSTOP) and a worker whose
// JS thread hangs. Each time the survivor exits non-zero with one line that names the rank at
// fault, within the collective timeout (3 s here); the launcher stops what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeWorkerExit, launchWorkers, resolveLaunch, type LaunchResult } from '../src/distributed/index.js';
import type { TrainSpec } from './helpers/dist-train.js';

const worker = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'dist-train-worker.js');
const TIMEOUT_MS = 3000;
const HEARTBEAT_MS = 200;

interface Line {
  rank: number;
  line: string;
  at: number;
}

/**
 * Two workers training without end; resolves each rank's pid once both have done three steps.
 * graceMs: how long the launcher lets the survivor explain itself after the first exit.
 */
function start(extra: Partial<TrainSpec> = {}, graceMs = 5000): { pids: Promise<Map<number, number>>; lines: Line[]; done: Promise<LaunchResult> } {
  const spec: TrainSpec = { n: 48, batch: 4, steps: 1e9, seed: 1, initSeed: 1, lr: 0.01, momentum: 0, mode: 'overlap', announce: true, ...extra };
  const pids = new Map<number, number>();
  const lines: Line[] = [];
  const ready = new Set<number>();
  let resolveReady: (m: Map<number, number>) => void = () => undefined;
  const started = new Promise<Map<number, number>>((resolve) => {
    resolveReady = resolve;
  });
  const done = launchWorkers({
    plan: resolveLaunch({ nproc: 2 }, {}),
    args: [worker, JSON.stringify(spec), '/dev/null', String(HEARTBEAT_MS), String(TIMEOUT_MS)],
    threads: 2,
    graceMs,
    onStart: (rank, pid) => pids.set(rank, pid),
    onLine: (rank, _stream, line) => {
      if (line === 'step 3') {
        ready.add(rank);
        if (ready.size === 2) resolveReady(pids);
      } else if (!line.startsWith('step ')) {
        lines.push({ rank, line, at: performance.now() });
      }
    },
  });
  return { pids: started, lines, done };
}

function survivorLine(lines: Line[], rank: number): Line {
  const found = lines.find((l) => l.rank === rank && /data-parallel training failed/.test(l.line));
  assert.ok(found, `rank ${rank} printed no failure line; output:\n${lines.map((l) => `[${l.rank}] ${l.line}`).join('\n')}`);
  return found;
}

/** Starts a run, sends `signal` to `rank` once both train, and returns the other rank's failure line and how long it took. */
async function signalRank(rank: number, signal: NodeJS.Signals, graceMs: number, extra: Partial<TrainSpec> = {}): Promise<{ pids: Map<number, number>; result: LaunchResult; line: string; after: number }> {
  const run = start(extra, graceMs);
  const pids = await run.pids;
  const sentAt = performance.now();
  process.kill(pids.get(rank)!, signal);
  const result = await run.done;
  const found = survivorLine(run.lines, 1 - rank);
  return { pids, result, line: found.line, after: found.at - sentAt };
}

test('kill -9 of rank 1: rank 0 exits 1 within the timeout, naming rank 1', async () => {
  const { pids, result, line, after } = await signalRank(1, 'SIGKILL', 5000);
  assert.match(line, new RegExp(`rank 1 \\(pid ${pids.get(1)} on [^)]+\\) stopped: no heartbeat`));
  assert.ok(after < TIMEOUT_MS, `named after ${after.toFixed(0)} ms`);
  assert.equal(result.ok, false);
  assert.deepEqual([result.failure?.rank, result.failure?.signal], [1, 'SIGKILL']);
  assert.equal(result.workers[0]!.code, 1);
  assert.match(result.summary, /worker rank 1 \(local rank 1, pid \d+\) was killed by SIGKILL; then worker rank 0 .* exited with code 1: data-parallel training failed on rank 0 of 2: rank 1/);
});

test('kill -9 of rank 0, which hosts the store: rank 1 exits 1 within the timeout, naming rank 0', async () => {
  const { result, line, after } = await signalRank(0, 'SIGKILL', 5000);
  assert.match(line, /rank 0, which hosts the rendezvous store at tcp:\/\/127\.0\.0\.1:\d+, does not answer/);
  assert.ok(after < TIMEOUT_MS, `named after ${after.toFixed(0)} ms`);
  assert.equal(result.workers[1]!.code, 1);
});

test("a frozen rank 1 (SIGSTOP) while rank 0 waits in the loop's own backward (blocking): rank 0 names it once the collective times out", async () => {
  const { result, line, after } = await signalRank(1, 'SIGSTOP', 500, { mode: 'prepare' });
  assert.match(line, /rank 1 \(pid \d+ on [^)]+\) stopped: no heartbeat .*Timed out/);
  assert.ok(after >= TIMEOUT_MS * 0.9 && after < TIMEOUT_MS + 10 * HEARTBEAT_MS + 1500, `named after ${after.toFixed(0)} ms`);
  assert.deepEqual([result.failure?.rank, result.failure?.code], [0, 1]);
  assert.equal(result.workers[1]!.signal, 'SIGTERM', 'the launcher stopped the frozen worker');
});

test('rank 1 alive but stuck outside the collectives: rank 0 says so after the timeout', async () => {
  const run = start({ spinRank: 1, spinAfter: 3 }, 500);
  await run.pids;
  const result = await run.done;
  const line = survivorLine(run.lines, 0);
  assert.match(line.line, /rank 1 \(pid \d+ on [^)]+\) \(at collective #\d+\) is alive but did not reach collective #\d+ within 3\.0 s: it hangs or runs different code/);
  assert.deepEqual([result.failure?.rank, result.failure?.code], [0, 1]);
});

test("a worker killed by a signal is described without its last line (only progress); one that exited says its reason", () => {
  const base = { rank: 0, localRank: 0, pid: 7, lastError: 'epoch 1/3  loss 0.52' };
  assert.equal(describeWorkerExit({ ...base, code: null, signal: 'SIGKILL' }), 'worker rank 0 (local rank 0, pid 7) was killed by SIGKILL');
  const failed = { ...base, code: 2, signal: null, lastError: 'tlcv pretrain: --data: no such folder' };
  assert.equal(describeWorkerExit(failed), 'worker rank 0 (local rank 0, pid 7) exited with code 2: tlcv pretrain: --data: no such folder');
  assert.equal(describeWorkerExit(failed, false), 'worker rank 0 (local rank 0, pid 7) exited with code 2');
});
