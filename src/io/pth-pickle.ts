/**
 * The pickle half of torch.save files: a restricted unpickler's whitelist (OrderedDict, the
 * tensor and parameter rebuild functions, the storage types) and the tensors it rebuilds.
 * Views (storage offsets, strides, storages shared between tensors) come back as views, as
 * torch.load returns them.
 */
import { Tensor, tidy, type DType } from '../tensor/index.js';
import { invoke } from '../tensor/invoke.js';
import { weightsError } from './byte-source.js';
import { unpickleAt, describe, type AllowedGlobal } from './pickle.js';
import { ITEM_SIZE, tensorFromBytes } from './raw-tensor.js';

const STORAGE_DTYPES: Record<string, DType> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

interface StorageType extends AllowedGlobal {
  dtype: DType;
}

interface StorageRef {
  kind: 'storage';
  key: string;
  dtype: DType;
  numel: number;
  tensor?: Tensor;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads a storage's bytes (little-endian), given its key, element size and element count. */
export type StorageReader = (key: string, itemSize: number, numel: number) => Buffer;

/** What a pickle says about one storage: its element type and count. */
export interface StorageInfo {
  dtype: DType;
  numel: number;
}

class PthLoader {
  readonly storages = new Map<string, StorageRef>();

  /** With no reader, storages are only collected and tensors come back as null (a first pass). */
  constructor(
    private readonly file: string,
    private readonly readStorage: StorageReader | null,
  ) {}

  resolveGlobal = (module: string, name: string): AllowedGlobal | null => {
    const g = (call?: (args: unknown[]) => unknown): AllowedGlobal => ({ module, name, call });
    if (module === 'collections' && name === 'OrderedDict') return g((args) => this.orderedDict(args));
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return g((args) => this.rebuildTensor(args));
    if (module === 'torch._utils' && name === '_rebuild_tensor') return g((args) => this.rebuildTensor(args));
    if (module === 'torch._utils' && (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state')) {
      return g((args) => {
        if (!(args[0] instanceof Tensor) && this.readStorage !== null) throw weightsError(this.file, `${name} got ${describe(args[0])} instead of a tensor`);
        return args[0];
      });
    }
    const dtype = STORAGE_DTYPES[name];
    if (module === 'torch' && dtype !== undefined) return { module, name, dtype } as StorageType;
    return null;
  };

  private orderedDict(args: unknown[]): Map<unknown, unknown> {
    if (args.length === 0) return new Map();
    throw weightsError(this.file, 'collections.OrderedDict is called with arguments; torch.save writes it without');
  }

  /** ('storage', type, key, location, numel), with a sixth view_metadata (always None) in the legacy format. */
  persistentLoad = (pid: unknown): StorageRef => {
    const file = this.file;
    if (!Array.isArray(pid) || pid[0] !== 'storage' || (pid.length !== 5 && pid.length !== 6)) {
      throw weightsError(file, `unexpected persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`);
    }
    if (pid.length === 6 && pid[5] !== null) throw weightsError(file, 'legacy storage views are not supported');
    const [, type, key, , numel] = pid as [string, unknown, unknown, unknown, unknown];
    if (type === null || typeof type !== 'object' || !('dtype' in type)) throw weightsError(file, `persistent id names ${describe(type)}, not a torch storage type`);
    if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) throw weightsError(file, `storage key ${JSON.stringify(key)} is not a plain name`);
    if (!isCount(numel)) throw weightsError(file, `storage ${key} has size ${String(numel)}, not a count`);
    const dtype = (type as StorageType).dtype;
    const seen = this.storages.get(key);
    if (seen !== undefined) {
      if (seen.dtype !== dtype || seen.numel !== numel) throw weightsError(file, `storage ${key} is described twice, differently`);
      return seen;
    }
    const ref: StorageRef = { kind: 'storage', key, dtype, numel };
    this.storages.set(key, ref);
    return ref;
  };

  build = (target: unknown): boolean => target instanceof Map; // an OrderedDict's _metadata: not needed

  private storageTensor(ref: StorageRef, read: StorageReader): Tensor {
    ref.tensor ??= tensorFromBytes(read(ref.key, ITEM_SIZE[ref.dtype], ref.numel), ref.dtype, [ref.numel]);
    return ref.tensor;
  }

  /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
  private rebuildTensor(args: unknown[]): Tensor | null {
    const file = this.file;
    const [storage, offset, size, stride] = args;
    if (storage === null || typeof storage !== 'object' || (storage as StorageRef).kind !== 'storage') throw weightsError(file, `a tensor is built from ${describe(storage)}, not a storage`);
    const ref = storage as StorageRef;
    if (!isCount(offset) || !Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length || !size.every(isCount) || !stride.every(isCount)) {
      throw weightsError(file, `a tensor on storage ${ref.key} has offset ${String(offset)}, size ${JSON.stringify(size)}, stride ${JSON.stringify(stride)}; expected counts of equal length`);
    }
    const dims = size as number[];
    const steps = stride as number[];
    if (dims.every((d) => d > 0)) {
      const last = dims.reduce((acc, d, i) => acc + (d - 1) * steps[i]!, offset);
      if (!Number.isSafeInteger(last) || last >= ref.numel) {
        throw weightsError(file, `a tensor of size [${dims}] stride [${steps}] offset ${offset} reaches element ${last} of storage ${ref.key}, which has ${ref.numel}`);
      }
    } else if (offset > ref.numel) {
      throw weightsError(file, `an empty tensor starts at ${offset}, past storage ${ref.key} (${ref.numel} elements)`);
    }
    if (this.readStorage === null) return null;
    return invoke('as_strided', [this.storageTensor(ref, this.readStorage), dims, steps, offset]) as Tensor;
  }
}

export function swapBytes(b: Buffer, size: number): void {
  if (size === 2) b.swap16();
  else if (size === 4) b.swap32();
  else if (size === 8) b.swap64();
}

/** The state dict inside what was saved: the dict itself, or its 'state_dict' / 'model' entry. */
function stateDictOf(file: string, obj: unknown): Map<string, Tensor> {
  const asStateDict = (v: unknown): Map<string, Tensor> | null =>
    v instanceof Map && [...v].every(([k, t]) => typeof k === 'string' && t instanceof Tensor) ? (v as Map<string, Tensor>) : null;
  const direct = asStateDict(obj);
  if (direct !== null) return direct;
  if (obj instanceof Map) {
    for (const key of ['state_dict', 'model_state_dict', 'model']) {
      const inner = asStateDict(obj.get(key));
      if (inner !== null) return inner;
    }
    const bad = [...obj].find(([k, t]) => typeof k !== 'string' || !(t instanceof Tensor));
    throw weightsError(file, `expected a state dict (names to tensors) but entry ${JSON.stringify(String(bad?.[0]))} holds ${describe(bad?.[1])}`);
  }
  throw weightsError(file, `expected a state dict (names to tensors) but the file holds ${describe(obj)}`);
}

/**
 * The state dict in a torch.save pickle, with storages from `readStorage`. No pickled code
 * runs: anything outside the whitelist is refused. The caller owns the returned tensors.
 */
export function loadPickledStateDict(pkl: Buffer, readStorage: StorageReader, file: string, start = 0): Map<string, Tensor> {
  return tidy(() => {
    const loader = new PthLoader(file, readStorage);
    const { value, end } = unpickleAt(pkl, start, { file, resolveGlobal: loader.resolveGlobal, persistentLoad: loader.persistentLoad, build: loader.build });
    if (start === 0 && end !== pkl.length) throw weightsError(file, `data.pkl has ${pkl.length - end} bytes after its pickle`);
    return new Map(stateDictOf(file, value));
  });
}

/** A first pass over a state-dict pickle: the storages it refers to and where it ends. Reads no storage. */
export function scanPickledStorages(pkl: Buffer, file: string, start: number): { storages: Map<string, StorageInfo>; end: number } {
  const loader = new PthLoader(file, null);
  const { end } = unpickleAt(pkl, start, { file, resolveGlobal: loader.resolveGlobal, persistentLoad: loader.persistentLoad, build: loader.build });
  return { storages: new Map([...loader.storages].map(([k, r]) => [k, { dtype: r.dtype, numel: r.numel }])), end };
}

