/**
 * Starting the local workers of a data-parallel run, as `torchrun --nproc-per-node N` does:
 * each gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and
 * MASTER_PORT, and an equal share of the CPU threads (OMP_NUM_THREADS and TLCV_THREADS).
 *
 * Signals: SIGINT and SIGTERM sent to the launcher are passed to every worker (a worker of a
 * tlcv run then stops with the others after the same step, and rank 0 writes its checkpoint).
 *
 * Faults: when a worker fails, the others get `graceMs` to notice and exit with their own
 * message (they name the rank at fault within a few heartbeats, or after the collective
 * timeout for a hung one); whoever is left is then stopped, SIGTERM and after 5 s SIGKILL.
 * The result names the first failure, as torchrun's ChildFailedError does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { TlcvError } from '../errors.js';
import { freePort, type LaunchPlan } from './env.js';

export interface LaunchOptions {
  plan: LaunchPlan;
  /** The program and its arguments; default program: this Node. */
  command?: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** CPU threads for this node's workers together (default: every core), split evenly. */
  threads?: number;
  /** Collective and rendezvous timeout for the workers (TLCV_DIST_TIMEOUT), in ms. */
  timeoutMs?: number;
  /** How long the other workers may take to exit on their own after one fails (default 10 s). */
  graceMs?: number;
  /** Called as each worker starts (for monitoring, or a test that kills one). */
  onStart?: (rank: number, pid: number) => void;
  /** Each output line of each worker; default: written to this process's stdout/stderr as "[rank N] line". */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
}

export interface WorkerExit {
  rank: number;
  localRank: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last line the worker wrote to stderr. */
  lastError: string;
}

export interface LaunchResult {
  ok: boolean;
  masterPort: number;
  workers: WorkerExit[];
  /** The first worker that failed, and the one line that says so; null when all exited 0. */
  failure: WorkerExit | null;
  summary: string;
}

/**
 * One worker's end in words. Its last stderr line is quoted when it exited with a code (tlcv
 * prints the reason last) and `quote` allows it; a worker killed by a signal said nothing about
 * why, and its last line is only progress.
 *
 * @example
 * describeWorkerExit(exit); // "worker rank 1 (local rank 1, pid 4242) was killed by SIGKILL"
 */
export function describeWorkerExit(w: WorkerExit, quote = true): string {
  const how = w.signal ? `was killed by ${w.signal}` : `exited with code ${String(w.code)}`;
  return `worker rank ${w.rank} (local rank ${w.localRank}, pid ${w.pid}) ${how}${quote && w.signal === null && w.lastError ? `: ${w.lastError}` : ''}`;
}
const describe = (w: WorkerExit): string => describeWorkerExit(w);

/** The environment of worker `localRank` on this node. */
export function workerEnvironment(plan: LaunchPlan, masterPort: number, localRank: number, threads: number, timeoutMs?: number): Record<string, string> {
  const rank = plan.nodeRank * plan.nproc + localRank;
  const env: Record<string, string> = {
    RANK: String(rank),
    LOCAL_RANK: String(localRank),
    WORLD_SIZE: String(plan.worldSize),
    LOCAL_WORLD_SIZE: String(plan.nproc),
    GROUP_RANK: String(plan.nodeRank),
    MASTER_ADDR: plan.masterAddr,
    MASTER_PORT: String(masterPort),
    OMP_NUM_THREADS: String(threads),
    TLCV_THREADS: String(threads),
  };
  if (timeoutMs !== undefined) env.TLCV_DIST_TIMEOUT = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
  return env;
}

/**
 * Starts this node's workers and resolves when all have exited.
 *
 * @example
 * const result = await launchWorkers({ plan: resolveLaunch({ nproc: 2 }), args: ['train.js'] });
 * if (!result.ok) { console.error(result.summary); process.exitCode = 1; }
 */
export async function launchWorkers(o: LaunchOptions): Promise<LaunchResult> {
  const { plan } = o;
  const masterPort = plan.masterPort ?? (await freePort());
  const total = o.threads ?? availableParallelism();
  if (!Number.isInteger(total) || total < 1) throw new TlcvError('ARGUMENT', `threads: expected a positive integer, found ${String(o.threads)}`);
  const threads = Math.max(1, Math.floor(total / plan.nproc));
  const graceMs = o.graceMs ?? 10_000;
  const onLine =
    o.onLine ??
    ((rank: number, stream: 'stdout' | 'stderr', line: string) => {
      (stream === 'stdout' ? process.stdout : process.stderr).write(`[rank ${rank}] ${line}\n`);
    });
  const exits: WorkerExit[] = [];
  const children: ChildProcess[] = [];
  let failure: WorkerExit | null = null;
  let stopTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stopAll = (signal: NodeJS.Signals): void => {
    for (const c of children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      c.kill(signal);
      // A frozen (SIGSTOP) worker acts on SIGTERM only once it runs again.
      if (signal === 'SIGTERM') c.kill('SIGCONT');
    }
  };
  // The workers run in process groups of their own, so a Ctrl-C at a terminal reaches them
  // once, through here, and a worker's second signal is the user's second Ctrl-C.
  const forward = (signal: NodeJS.Signals): void => stopAll(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  try {
    await Promise.all(
      Array.from({ length: plan.nproc }, (_, localRank) => {
        const rank = plan.nodeRank * plan.nproc + localRank;
        const child = spawn(o.command ?? process.execPath, o.args, {
          env: { ...(o.env ?? process.env), ...workerEnvironment(plan, masterPort, localRank, threads, o.timeoutMs) },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        children.push(child);
        if (child.pid !== undefined) o.onStart?.(rank, child.pid);
        let lastError = '';
        createInterface({ input: child.stdout! }).on('line', (line) => onLine(rank, 'stdout', line));
        createInterface({ input: child.stderr! }).on('line', (line) => {
          if (line.trim()) lastError = line.trim();
          onLine(rank, 'stderr', line);
        });
        return new Promise<void>((resolve) => {
          let settled = false;
          const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
            if (settled) return;
            settled = true;
            const exit: WorkerExit = { rank, localRank, pid: child.pid ?? -1, code, signal, lastError };
            exits.push(exit);
            if ((code !== 0 || signal !== null) && failure === null) {
              failure = exit;
              stopTimer = setTimeout(() => {
                stopAll('SIGTERM');
                killTimer = setTimeout(() => stopAll('SIGKILL'), 5000);
              }, graceMs);
            }
            resolve();
          };
          child.on('error', (e) => {
            lastError = e.message;
            if (child.pid === undefined) settle(null, null); // it never started
          });
          child.on('close', settle);
        });
      }),
    );
  } finally {
    clearTimeout(stopTimer);
    clearTimeout(killTimer);
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
  exits.sort((a, b) => a.rank - b.rank);
  const first = failure as WorkerExit | null;
  const others = exits.filter((w) => w !== first && (w.code !== 0 || w.signal !== null));
  const summary =
    first === null
      ? `all ${plan.nproc} workers on node ${plan.nodeRank} finished`
      : `data-parallel run failed: ${describe(first)}${others.length > 0 ? `; then ${others.map(describe).join('; ')}` : ''}`;
  return { ok: first === null, masterPort, workers: exits, failure: first, summary };
}
