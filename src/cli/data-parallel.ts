/**
 * Data-parallel `pretrain` and `transfer`. One command line plays one of three parts:
 * - launcher (`--nproc N`, or `--nnodes`): starts this host's N workers on the same command
 *   line, as `torchrun --nproc-per-node N` does, with an equal share of the threads; passes
 *   rank 0's output through (the others are quiet unless they fail first), and exits non-zero
 *   naming the first failure;
 * - worker (RANK and WORLD_SIZE in its environment, from the launcher or from torchrun, so a
 *   worker needs no flags): joins the group and trains with the Learner's DataParallel callback;
 * - otherwise the one process of an ordinary run.
 */
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import { describeWorkerExit, initProcessGroup, launchWorkers, readWorkerEnv, resolveLaunch, type LaunchResult, type ProcessGroup } from '../distributed/index.js';
import type { FlagSpecs, FlagValues } from './args.js';
import { applyThreads } from './common.js';

export const DIST_FLAGS = {
  nproc: { kind: 'int', help: 'data-parallel: worker processes on this host (as torchrun --nproc-per-node); they share the threads', min: 1, placeholder: 'N' },
  nnodes: { kind: 'int', help: 'data-parallel: hosts taking part (default 1)', min: 1, placeholder: 'N' },
  'node-rank': { kind: 'int', help: "data-parallel: this host's place among them (0: the master)", min: 0, placeholder: 'R' },
  'master-addr': { kind: 'string', help: 'data-parallel: address of node rank 0, which the other hosts reach (default 127.0.0.1)', placeholder: 'HOST' },
  'master-port': { kind: 'int', help: 'data-parallel: TCP port of the rendezvous on it (default: a free port on one host, 29500 on several)', min: 1, max: 65535, placeholder: 'P' },
  'dist-timeout': { kind: 'number', help: 'data-parallel: seconds a rank waits for the others before it fails, naming the rank at fault (default 60)', min: 1, placeholder: 'S' },
} as const satisfies FlagSpecs;

type DistFlags = FlagValues<typeof DIST_FLAGS> & { threads?: number | undefined; 'batch-size'?: number | undefined };

/** What the training body needs to know: its group (null alone) and whether it writes. */
export interface RunRole {
  group: ProcessGroup | null;
  isMain: boolean;
}

const TLCV_BIN = fileURLToPath(new URL('../../../bin/tlcv.js', import.meta.url));
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function checkGlobalBatch(batchSize: number | undefined, worldSize: number): void {
  // An automatic batch is chosen a multiple of the processes.
  if (batchSize !== undefined && batchSize % worldSize !== 0) {
    throw new TlcvError('ARGUMENT', `--batch-size ${batchSize}: expected a multiple of the ${worldSize} processes (it is the global batch, split evenly among them)`);
  }
}

/**
 * Runs `body` as this process's part of the command (see the file comment). `check` runs where
 * the run's folder is: the launcher of node 0 before it starts anything, and rank 0.
 *
 * @example
 * return runDataParallel('pretrain', argv, f, () => checkRunFolder(f.out, f), async ({ group, isMain }) => train(group, isMain));
 */
export async function runDataParallel(command: string, argv: string[], f: DistFlags, check: () => void, body: (role: RunRole) => Promise<number>): Promise<number> {
  const env = readWorkerEnv();
  if (env !== null && env.worldSize > 1) {
    // The launcher's share of the threads (TLCV_THREADS) wins; under torchrun --threads is per worker.
    if (process.env.TLCV_THREADS === undefined) applyThreads(f.threads);
    checkGlobalBatch(f['batch-size'], env.worldSize);
    const group = await initProcessGroup(f['dist-timeout'] === undefined ? {} : { timeoutMs: Math.round(f['dist-timeout'] * 1000) });
    try {
      if (group.isMain) check();
      return await body({ group, isMain: group.isMain });
    } finally {
      group.destroy();
    }
  }
  const launch = env === null && (f.nproc !== undefined || f.nnodes !== undefined);
  const plan = launch
    ? resolveLaunch({
        ...(f.nproc === undefined ? {} : { nproc: f.nproc }),
        ...(f.nnodes === undefined ? {} : { nnodes: f.nnodes }),
        ...(f['node-rank'] === undefined ? {} : { nodeRank: f['node-rank'] }),
        ...(f['master-addr'] === undefined ? {} : { masterAddr: f['master-addr'] }),
        ...(f['master-port'] === undefined ? {} : { masterPort: f['master-port'] }),
      })
    : null;
  if (plan === null || plan.worldSize === 1) {
    applyThreads(f.threads);
    check();
    return body({ group: null, isMain: true });
  }
  checkGlobalBatch(f['batch-size'], plan.worldSize);
  if (plan.nodeRank === 0) check();
  // Rank 0 speaks for the run, as one process would; the others' last lines are kept, and shown
  // if one of them is the first to fail.
  const held = new Map<number, string[]>();
  const result = await launchWorkers({
    plan,
    args: [TLCV_BIN, command, ...argv],
    ...(f.threads === undefined ? {} : { threads: f.threads }),
    ...(f['dist-timeout'] === undefined ? {} : { timeoutMs: f['dist-timeout'] * 1000 }),
    onLine: (rank, stream, line) => {
      if (rank === 0) (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`);
      else if (stream === 'stderr') held.set(rank, [...(held.get(rank) ?? []), line].slice(-HELD_LINES));
    },
  });
  return exitCode(command, result, held);
}

const HELD_LINES = 20;

/**
 * How the launcher ends: 0 when every worker did; when every worker that failed exited with
 * the same code and rank 0 is one of them (a user error every rank saw: 2; an interrupt: 130
 * or 143), that code, rank 0's line having said why; otherwise 1, after the first failed
 * worker's last lines and the summary that names it.
 */
function exitCode(command: string, r: LaunchResult, held: Map<number, string[]>): number {
  if (r.ok) return 0;
  const failed = r.workers.filter((w) => w.code !== 0 || w.signal !== null);
  const codes = new Set(failed.map((w) => w.code ?? 128 + (SIGNAL_NUMBERS[w.signal!] ?? 0)));
  if (codes.size === 1 && failed[0]!.rank === 0 && failed[0]!.code !== null) return failed[0]!.code;
  const first = r.failure!;
  if (first.rank !== 0) for (const line of held.get(first.rank) ?? []) console.error(`[rank ${first.rank}] ${line}`);
  // Each failure's own words are on screen once already (rank 0's passed through, the first
  // failed rank's held lines just above): the summary names the workers and how they ended.
  const others = r.workers.filter((w) => w !== first && (w.code !== 0 || w.signal !== null));
  const then = others.length > 0 ? `; then ${others.map((w) => describeWorkerExit(w, false)).join('; ')}` : '';
  console.error(`tlcv ${command}: data-parallel run failed: ${describeWorkerExit(first, false)}${then}`);
  return 1;
}
