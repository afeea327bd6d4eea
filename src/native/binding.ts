/**
 * The one place that loads the native addon, typed as one interface. It loads on the first
 * call, not on import: `tlcv --help` and `tlcv models` work without libtorch, and a missing
 * libtorch is reported (with its fixes) by the first command that needs it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError, TorchError } from '../errors.js';

/** A small integer naming a libtorch tensor owned by the addon (a slot and its generation). */
export type Handle = number & { readonly __brand: 'TensorHandle' };

/** How an op argument or result travels: see kind_of in native/napi/ivalue.cc. */
export const ARG_KIND = { value: 0, tensor: 1, optionalTensor: 2, tensorList: 3, optionalTensorList: 4 } as const;

export interface TensorMeta {
  shape: number[];
  dtype: number;
  device: string;
  requiresGrad: boolean;
}

export interface RuntimeInfo {
  threads: number;
  torchVersion: string;
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  gradEnabled: boolean;
}

/** A process group's settings, as native/core/dist_group.h reads them (src/distributed fills every field). */
export interface DistGroupConfig {
  store: 'tcp' | 'file';
  masterAddr: string;
  masterPort: number;
  file: string;
  /** Rank 0 serves the TCPStore (false under torchrun, whose agent serves it). */
  hostStore: boolean;
  rank: number;
  worldSize: number;
  backend: string;
  interface: string;
  name: string;
  timeoutMs: number;
  heartbeatMs: number;
  who: string;
}

/** A rank's last heartbeat in the store: its beat count and how many collectives it had started. */
export interface DistPeerState {
  rank: number;
  seen: boolean;
  beat: number;
  collectives: number;
  who: string;
}

export interface NativeBinding {
  setErrorClass(cls: typeof TorchError): void;
  fromBuffer(data: ArrayBufferView, shape: number[], dtype: number): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  meta(h: Handle): TensorMeta;
  release(h: Handle): void;
  isReleased(h: Handle): boolean;
  liveStats(): { count: number; bytes: number; created: number };
  item(h: Handle): number | boolean;
  toString(h: Handle): string;
  /** Each tensor's version counter (bumped by every in-place write; -1 for inference tensors). */
  versions(handles: Uint32Array): Float64Array;
  resolveOp(name: string, overload: string): number;
  opSchema(id: number): string;
  opOverloads(name: string): string[];
  callOp(id: number, discard: boolean, ...args: unknown[]): unknown;
  opInfo(id: number): { args: number[]; returns: number[] };
  backward(h: Handle, grad: Handle | null, retainGraph: boolean): void;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  setRequiresGrad(h: Handle, on: boolean): void;
  setNumThreads(n: number): void;
  runtimeInfo(): RuntimeInfo;
  manualSeed(seed: number): void;
  setGradEnabled(on: boolean): boolean;
  inferenceMode(enter: boolean): void;
  setAutocast(device: string, enabled: boolean, dtype: number): boolean;
  /** Rows of 5 handles (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq or 0xFFFFFFFF) and 9 scalars each. */
  fusedAdamStep(handles: Uint32Array, scalars: Float64Array): void;
  /** Rows of 3 handles (param, grad, momentum_buffer or 0xFFFFFFFF) and 7 scalars each. */
  fusedSgdStep(handles: Uint32Array, scalars: Float64Array): void;
  fusedStepSupports(h: Handle): boolean;
  cpuCacheStats(): { enabled: boolean; limitBytes: number; cachedBytes: number; cachedBlocks: number; hits: number; misses: number; inUseBytes: number; peakInUseBytes: number };
  cpuCacheRelease(): void;
  mallocStats(): { available: boolean; heapBytes: number; mmappedBytes: number; inUseBytes: number; freeBytes: number; topFreeBytes: number };
  /** malloc_trim(0): true if pages went back to the kernel. */
  mallocTrim(): boolean;
  profilerStart(): void;
  profilerStop(): { rows: { name: string; calls: number; totalUs: number; selfUs: number }[]; rootUs: number };
  /** False when the addon was built without c10d/Gloo: every other dist* function then throws. */
  distAvailable(): boolean;
  distHasBackend(name: string): boolean;
  distInit(config: DistGroupConfig): Promise<number>;
  distInfo(group: number): { rank: number; worldSize: number; backend: string; collectives: number; heartbeatError: string };
  // Each collective returns a Promise, or with `sync` true blocks and returns the result.
  distAllreduce(group: number, tensors: Handle[], average: boolean, bucketBytes: number, sync?: false): Promise<void>;
  distAllreduce(group: number, tensors: Handle[], average: boolean, bucketBytes: number, sync: true): void;
  distBroadcast(group: number, tensors: Handle[], root: number, sync?: false): Promise<void>;
  distBroadcast(group: number, tensors: Handle[], root: number, sync: true): void;
  distBarrier(group: number, sync?: false): Promise<void>;
  distBarrier(group: number, sync: true): void;
  distPeers(group: number, sync?: false): Promise<DistPeerState[]>;
  distPeers(group: number, sync: true): DistPeerState[];
  distDestroy(group: number, abandon: boolean): void;
  distReducer(group: number, params: Handle[], bucketBytes: number, firstBucketBytes: number, sync?: false): Promise<{ id: number; buckets: number }>;
  distReducer(group: number, params: Handle[], bucketBytes: number, firstBucketBytes: number, sync: true): { id: number; buckets: number };
  distReducerBackward(reducer: number, loss: Handle, sync?: false): Promise<void>;
  distReducerBackward(reducer: number, loss: Handle, sync: true): void;
  distReducerPrepare(reducer: number, loss: Handle): void;
  distReducerDestroy(reducer: number): void;
}

function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i += 1) {
    const candidate = join(dir, 'build', 'Release', 'tlcv_native.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new TlcvError(
    'NATIVE_LOAD',
    'tlcv native addon not built: run `npm ci` (or `npm run build:native`) after installing libtorch (apt-get install libtorch-dev, or set LIBTORCH=/path/to/libtorch)',
  );
}

function load(): NativeBinding {
  const path = findAddon();
  // OpenMP workers that spin between ops starve everything else on a busy or small machine
  // (measured 10-100x slower small ops at load 8 on 2 cores); users can still override it.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  // c10d logs every failed connect and bind through glog (read when the library loads), and
  // tlcv reports the same failures itself as one line; GLOG_minloglevel=0 shows them again.
  process.env.GLOG_minloglevel ??= '3';
  const require = createRequire(import.meta.url);
  try {
    const addon = require(path) as NativeBinding;
    addon.setErrorClass(TorchError);
    return addon;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new TlcvError(
      'NATIVE_LOAD',
      `could not load ${path}: ${why}\nPossible fixes: install libtorch (apt-get install libtorch-dev), or set LIBTORCH to the libtorch folder it was built against and rebuild with npm run build:native`,
    );
  }
}

// Every method of the interface, checked against it by the compiler.
const METHODS: Record<keyof NativeBinding, true> = {
  setErrorClass: true,
  fromBuffer: true,
  toBuffer: true,
  meta: true,
  release: true,
  isReleased: true,
  liveStats: true,
  item: true,
  toString: true,
  versions: true,
  resolveOp: true,
  opSchema: true,
  opOverloads: true,
  callOp: true,
  opInfo: true,
  backward: true,
  grad: true,
  setGrad: true,
  setRequiresGrad: true,
  setNumThreads: true,
  runtimeInfo: true,
  manualSeed: true,
  setGradEnabled: true,
  inferenceMode: true,
  setAutocast: true,
  fusedAdamStep: true,
  fusedSgdStep: true,
  fusedStepSupports: true,
  cpuCacheStats: true,
  cpuCacheRelease: true,
  mallocStats: true,
  mallocTrim: true,
  profilerStart: true,
  profilerStop: true,
  distAvailable: true,
  distHasBackend: true,
  distInit: true,
  distInfo: true,
  distAllreduce: true,
  distBroadcast: true,
  distBarrier: true,
  distPeers: true,
  distDestroy: true,
  distReducer: true,
  distReducerBackward: true,
  distReducerPrepare: true,
  distReducerDestroy: true,
};

type Methods = Record<string, (...args: unknown[]) => unknown>;
let loaded: NativeBinding | null = null;
let failure: unknown = null;
const onLoad: ((n: NativeBinding) => void)[] = [];

function loadNow(): NativeBinding {
  if (loaded !== null) return loaded;
  if (failure !== null) throw failure;
  let addon: NativeBinding;
  try {
    addon = load();
  } catch (e) {
    failure = e;
    throw e;
  }
  // From here on each method of `native` is the addon's own function: no indirection on the hot path.
  for (const k of Object.keys(METHODS)) (native as unknown as Methods)[k] = (addon as unknown as Methods)[k]!;
  loaded = addon;
  for (const fn of onLoad.splice(0)) fn(addon);
  return addon;
}

/** Runs fn once the addon has loaded (now, if it has). */
export function whenNativeLoaded(fn: (n: NativeBinding) => void): void {
  if (loaded !== null) fn(loaded);
  else onLoad.push(fn);
}

/** The addon; its first call loads it. */
export const native = {} as NativeBinding;
for (const k of Object.keys(METHODS)) {
  (native as unknown as Methods)[k] = (...args: unknown[]) => (loadNow() as unknown as Methods)[k]!(...args);
}
