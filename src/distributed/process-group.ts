/**
 * A process group on torch.distributed's engine (c10d): the rendezvous through a store, Gloo
 * on CPU (NCCL where the libtorch build has it), and the collectives DDP needs. Every
 * collective returns a Promise; the waiting happens on libuv's thread pool.
 *
 * A failed collective is explained once (src/distributed/faults.ts names the rank at fault)
 * and the group is then broken: every later call rejects with the same error at once, since
 * Gloo's connections cannot be trusted after a failure. Nothing waits forever: every
 * collective and the rendezvous give up after `timeoutMs`.
 */
import { hostname } from 'node:os';
import { native, type DistGroupConfig, type DistPeerState, type Handle } from '../native/binding.js';
import { TlcvError, TorchError, argumentError } from '../errors.js';
import { fromTypedArray, type Tensor } from '../tensor/index.js';
import { explainFailure, explainFailureSync, type FailedGroup } from './faults.js';
import { readWorkerEnv } from './env.js';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** The host of rank 0, which serves the rendezvous store (MASTER_ADDR). Default 127.0.0.1. */
  masterAddr?: string;
  /** The store's TCP port on that host (MASTER_PORT). Default 29500. */
  masterPort?: number;
  /** Rendezvous through this shared file (c10d's FileStore) instead of TCP: one host, or a shared file system. */
  storeFile?: string;
  /** gloo (CPU, the default) or nccl (CUDA builds of libtorch). */
  backend?: 'gloo' | 'nccl';
  /** How long a collective or the rendezvous may wait for the others, in ms (default 60 s). */
  timeoutMs?: number;
  /** How often each rank tells the store it is alive, in ms (default 1 s); failures are named within about three beats. */
  heartbeatMs?: number;
  /** Gloo's network interface (default: GLOO_SOCKET_IFNAME, else the address the host name resolves to). */
  networkInterface?: string;
  /** Distinguishes several groups on one store. */
  name?: string;
  /** Rank 0 serves the rendezvous store (default); false when something else does, as torchrun's agent. */
  hostStore?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
/** DDP's default gradient bucket, 25 MiB. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

function checkInt(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw argumentError(name, `an integer in [${min}, ${max}]`, v);
  return v;
}

function configFrom(o: ProcessGroupOptions): DistGroupConfig {
  const worldSize = checkInt('worldSize', o.worldSize, 1);
  const backend = o.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') throw argumentError('backend', '"gloo" or "nccl"', backend);
  if (!native.distAvailable()) throw new TlcvError('DISTRIBUTED', 'this tlcv build has no data-parallel support: install libgloo-dev (Debian) and rebuild with npm run build:native');
  if (!native.distHasBackend(backend)) throw new TlcvError('DISTRIBUTED', `backend ${backend}: this libtorch build does not have it (NCCL needs a CUDA build of libtorch); use gloo`);
  return {
    store: o.storeFile === undefined ? 'tcp' : 'file',
    masterAddr: o.masterAddr ?? '127.0.0.1',
    masterPort: checkInt('masterPort', o.masterPort ?? 29500, 1, 65535),
    file: o.storeFile ?? '',
    hostStore: o.hostStore ?? true,
    rank: checkInt('rank', o.rank, 0, worldSize - 1),
    worldSize,
    backend,
    interface: o.networkInterface ?? process.env.GLOO_SOCKET_IFNAME ?? '',
    name: o.name ?? 'default',
    timeoutMs: checkInt('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS, 100),
    heartbeatMs: checkInt('heartbeatMs', o.heartbeatMs ?? 1000, 10),
    who: `pid ${process.pid} on ${hostname()}`,
  };
}

export interface AllreduceOptions {
  /** Divide the sums by the world size (gradients). */
  average?: boolean;
  bucketBytes?: number;
  /** What the collective is, for the error message ("allreduce of gradients"). */
  what?: string;
}

const handles = (tensors: Tensor[]): Handle[] => tensors.map((t) => t.handle);

function asDistributedError(e: unknown): unknown {
  return e instanceof TorchError && e.kind === 'distributed' ? new TlcvError('DISTRIBUTED', e.message) : e;
}

/**
 * Joins the group: every rank calls it, and it resolves once all `worldSize` ranks are there.
 * Without options (or without rank and worldSize) it reads torchrun's environment variables
 * (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as `init_process_group('gloo')` does.
 *
 * @example
 * const group = await initProcessGroup({ rank: 0, worldSize: 2, masterPort: 29500 });
 * const [lossSum, n] = await group.allreduceSums([12.5, 64]);
 * group.destroy();
 */
export async function initProcessGroup(o: Partial<ProcessGroupOptions> = {}): Promise<ProcessGroup> {
  let full: ProcessGroupOptions;
  if (o.rank !== undefined && o.worldSize !== undefined) {
    full = { ...o, rank: o.rank, worldSize: o.worldSize };
  } else {
    const env = readWorkerEnv();
    if (env === null) throw new TlcvError('DISTRIBUTED', 'no process group settings: pass rank and worldSize, or start the workers with `tlcv ... --nproc N` or torchrun (which set RANK and WORLD_SIZE)');
    const fromEnv = { masterAddr: env.masterAddr, masterPort: env.masterPort, timeoutMs: env.timeoutMs, hostStore: !env.agentStore, name: `default-${env.restart}` };
    full = { ...fromEnv, ...o, rank: env.rank, worldSize: env.worldSize };
  }
  const config = configFrom(full);
  const id = await native.distInit(config).catch((e: unknown) => {
    throw asDistributedError(e);
  });
  return new ProcessGroup(id, config);
}

/**
 * Every collective comes in two forms: `allreduce` returns a Promise (the wait happens on
 * libuv's thread pool), `allreduceSync` blocks the JS thread, for loops whose per-step events
 * cannot await (the Learner's). Both give up after `timeoutMs` and name the rank at fault.
 */
export class ProcessGroup implements FailedGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: string;
  readonly timeoutMs: number;
  readonly heartbeatMs: number;
  readonly rendezvous: string;
  readonly storeHost: string;
  #id: number;
  #broken: TlcvError | null = null;
  #destroyed = false;

  /** Made by initProcessGroup. */
  constructor(id: number, config: DistGroupConfig) {
    this.#id = id;
    this.rank = config.rank;
    this.worldSize = config.worldSize;
    this.backend = config.backend;
    this.timeoutMs = config.timeoutMs;
    this.heartbeatMs = config.heartbeatMs;
    this.rendezvous = config.store === 'file' ? config.file : `tcp://${config.masterAddr}:${config.masterPort}`;
    this.storeHost = config.store === 'file' ? 'the file system' : config.hostStore ? 'rank 0' : "the launcher's agent on the master node";
  }

  /** Rank 0: the one process that writes checkpoints, metrics and reports. */
  get isMain(): boolean {
    return this.rank === 0;
  }

  /** The native group's id, for src/distributed's own use (the DDP reducer). */
  get nativeId(): number {
    this.#check();
    return this.#id;
  }

  collectives(): number {
    return this.#destroyed ? 0 : native.distInfo(this.#id).collectives;
  }

  peers(): Promise<DistPeerState[]> {
    return native.distPeers(this.#id);
  }

  peersSync(): DistPeerState[] {
    return native.distPeers(this.#id, true);
  }

  /** The error this group failed with, or null while it works. */
  get failure(): TlcvError | null {
    return this.#broken;
  }

  #check(): void {
    if (this.#broken) throw this.#broken;
    if (this.#destroyed) throw new TlcvError('DISTRIBUTED', 'the process group was destroyed');
  }

  /** Gloo's connections cannot be trusted after a failed collective: later calls fail at once. */
  #break(err: TlcvError): TlcvError {
    this.#broken = err;
    native.distDestroy(this.#id, true);
    this.#destroyed = true;
    return err;
  }

  /**
   * Runs one collective: on failure, explains it (naming the rank at fault), breaks the group
   * and rejects with that explanation. src/distributed's DDP runs its reducer through this too.
   * Arguments are read before `start` (a disposed tensor is the caller's mistake, thrown as it
   * is, and leaves the group working).
   */
  async run<T>(what: string, start: () => Promise<T>): Promise<T> {
    this.#check();
    try {
      return await start();
    } catch (e) {
      throw this.#broken ?? this.#break(await explainFailure(this, what, e));
    }
  }

  /** run() for a blocking collective. */
  runSync<T>(what: string, call: () => T): T {
    this.#check();
    try {
      return call();
    } catch (e) {
      throw this.explain(what, e);
    }
  }

  /**
   * Explains an error from a collective that ran outside run() (the Learner's own backward with
   * the reducer armed by prepareForBackward), breaks the group and returns the explanation.
   */
  explain(what: string, cause: unknown): TlcvError {
    return this.#broken ?? this.#break(explainFailureSync(this, what, cause));
  }

  /**
   * Sums the tensors over the ranks, in place (average: then divides by the world size), in
   * buckets of `bucketBytes` per dtype, each one flat allreduce.
   */
  allreduce(tensors: Tensor[], o: AllreduceOptions = {}): Promise<void> {
    const h = handles(tensors);
    return this.run(o.what ?? 'allreduce', () => native.distAllreduce(this.#id, h, o.average ?? false, o.bucketBytes ?? DEFAULT_BUCKET_BYTES));
  }

  allreduceSync(tensors: Tensor[], o: AllreduceOptions = {}): void {
    const h = handles(tensors);
    this.runSync(o.what ?? 'allreduce', () => native.distAllreduce(this.#id, h, o.average ?? false, o.bucketBytes ?? DEFAULT_BUCKET_BYTES, true));
  }

  /** Copies rank `root`'s tensors into every other rank's, in place. */
  broadcast(tensors: Tensor[], root = 0, what = 'broadcast'): Promise<void> {
    const h = handles(tensors);
    checkInt('root', root, 0, this.worldSize - 1);
    return this.run(what, () => native.distBroadcast(this.#id, h, root));
  }

  broadcastSync(tensors: Tensor[], root = 0, what = 'broadcast'): void {
    const h = handles(tensors);
    checkInt('root', root, 0, this.worldSize - 1);
    this.runSync(what, () => native.distBroadcast(this.#id, h, root, true));
  }

  barrier(what = 'barrier'): Promise<void> {
    return this.run(what, () => native.distBarrier(this.#id));
  }

  barrierSync(what = 'barrier'): void {
    this.runSync(what, () => native.distBarrier(this.#id, true));
  }

  /**
   * Sums plain numbers over the ranks (in float64): an epoch's loss sum, correct count and
   * image count, so every rank sees the metrics of the whole data.
   *
   * @example
   * const [lossSum, correct, n] = await group.allreduceSums([myLossSum, myCorrect, myN]);
   */
  async allreduceSums(values: number[], what = 'allreduce of metrics'): Promise<number[]> {
    const t = fromTypedArray(Float64Array.from(values), [values.length]);
    try {
      await this.allreduce([t], { what });
      return Array.from(t.toTypedArray() as Float64Array);
    } finally {
      t.dispose();
    }
  }

  allreduceSumsSync(values: number[], what = 'allreduce of metrics'): number[] {
    const t = fromTypedArray(Float64Array.from(values), [values.length]);
    try {
      this.allreduceSync([t], { what });
      return Array.from(t.toTypedArray() as Float64Array);
    } finally {
      t.dispose();
    }
  }

  /** Leaves the group (call it on every rank at the end). After a failure it only lets go. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    native.distDestroy(this.#id, false);
  }
}
