/**
 * torchrun's contract, both ways: a worker reads RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and
 * MASTER_PORT from its environment (whoever started it: tlcv's launcher, torchrun, a batch
 * scheduler's script), and a launcher resolves torchrun's options (--nproc-per-node, --nnodes,
 * --node-rank, --master-addr, --master-port) from flags first, then the same variables.
 */
import { createServer } from 'node:net';
import { TlcvError } from '../errors.js';

/** What a worker process learns from its environment. */
export interface WorkerEnv {
  rank: number;
  localRank: number;
  worldSize: number;
  localWorldSize: number;
  /** torchrun's GROUP_RANK: which node this worker runs on. */
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  /** TLCV_DIST_TIMEOUT (seconds), passed down by the launcher; undefined: the default. */
  timeoutMs: number | undefined;
  /** Under torchrun its agent serves the store at MASTER_ADDR:MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE). */
  agentStore: boolean;
  /** torchrun's restart count: a restarted group must not meet the keys of the one before. */
  restart: number;
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || v < min || v > max) {
    throw new TlcvError('ARGUMENT', `environment variable ${name}: expected an integer in [${min}, ${max}], found ${JSON.stringify(raw)}`);
  }
  return v;
}

/**
 * Reads the worker's place in the group from torchrun's variables; null when this process was
 * not started as a worker (neither RANK nor WORLD_SIZE set).
 *
 * @example
 * const env = readWorkerEnv(); // { rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 29500, ... }
 */
export function readWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv | null {
  if ((env.RANK ?? '') === '' && (env.WORLD_SIZE ?? '') === '') return null;
  const worldSize = envInt(env, 'WORLD_SIZE', 1);
  if (worldSize === undefined) throw new TlcvError('ARGUMENT', 'environment variable RANK is set but WORLD_SIZE is not: set both (torchrun sets them for each worker)');
  const rank = envInt(env, 'RANK', 0, worldSize - 1);
  if (rank === undefined) throw new TlcvError('ARGUMENT', 'environment variable WORLD_SIZE is set but RANK is not: set both (torchrun sets them for each worker)');
  const masterAddr = env.MASTER_ADDR ?? '';
  const masterPort = envInt(env, 'MASTER_PORT', 1, 65535);
  if (worldSize > 1 && (masterAddr === '' || masterPort === undefined)) {
    throw new TlcvError('ARGUMENT', `environment variables MASTER_ADDR and MASTER_PORT must name rank 0's host and a free port when WORLD_SIZE is ${worldSize}; found ${JSON.stringify(masterAddr)} and ${JSON.stringify(env.MASTER_PORT ?? '')}`);
  }
  const localWorldSize = envInt(env, 'LOCAL_WORLD_SIZE', 1) ?? worldSize;
  const timeout = envInt(env, 'TLCV_DIST_TIMEOUT', 1);
  return {
    rank,
    localRank: envInt(env, 'LOCAL_RANK', 0, localWorldSize - 1) ?? rank % localWorldSize,
    worldSize,
    localWorldSize,
    nodeRank: envInt(env, 'GROUP_RANK', 0) ?? Math.floor(rank / localWorldSize),
    masterAddr: masterAddr || '127.0.0.1',
    masterPort: masterPort ?? 29500,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    agentStore: env.TORCHELASTIC_USE_AGENT_STORE === 'True',
    restart: envInt(env, 'TORCHELASTIC_RESTART_COUNT', 0) ?? 0,
  };
}

/** torchrun's options, as tlcv's flags name them; any left out come from the environment. */
export interface LaunchFlags {
  /** Workers on this node (--nproc-per-node). */
  nproc?: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
}

export interface LaunchPlan {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  worldSize: number;
  masterAddr: string;
  /** null: one node and no port given, so the launcher picks a free one (torchrun --standalone). */
  masterPort: number | null;
}

function flagInt(name: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) throw new TlcvError('ARGUMENT', `${name}: expected an integer in [${min}, ${max}], found ${String(v)}`);
  return v;
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;

/**
 * Resolves a launch: flags win, then torchrun's variables (NNODES, NODE_RANK or GROUP_RANK,
 * MASTER_ADDR, MASTER_PORT), then one node on loopback.
 *
 * @example
 * resolveLaunch({ nproc: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29500 });
 */
export function resolveLaunch(flags: LaunchFlags, env: NodeJS.ProcessEnv = process.env): LaunchPlan {
  const nproc = flagInt('--nproc', flags.nproc, 1) ?? envInt(env, 'LOCAL_WORLD_SIZE', 1) ?? 1;
  const nnodes = flagInt('--nnodes', flags.nnodes, 1) ?? envInt(env, 'NNODES', 1) ?? 1;
  const nodeRank = flagInt('--node-rank', flags.nodeRank, 0, nnodes - 1) ?? envInt(env, 'NODE_RANK', 0, nnodes - 1) ?? envInt(env, 'GROUP_RANK', 0, nnodes - 1) ?? 0;
  const masterAddr = flags.masterAddr ?? env.MASTER_ADDR ?? '127.0.0.1';
  const masterPort = flagInt('--master-port', flags.masterPort, 1, 65535) ?? envInt(env, 'MASTER_PORT', 1, 65535) ?? (nnodes === 1 ? null : 29500);
  if (nnodes > 1 && LOOPBACK.test(masterAddr)) {
    throw new TlcvError('ARGUMENT', `--nnodes ${nnodes} needs --master-addr (or MASTER_ADDR): the address of the host that runs node rank 0, which the other hosts can reach; found ${JSON.stringify(masterAddr)}`);
  }
  return { nproc, nnodes, nodeRank, worldSize: nproc * nnodes, masterAddr, masterPort };
}

/**
 * A TCP port that is free on this host now (the kernel's choice), for a one-node run.
 * Another process could take it before rank 0 listens; rank 0 then fails with a clear error.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
