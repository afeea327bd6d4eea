/** Making tensors: from JS data, filled, ranges, random (all from the seedable global generator). */
import { native } from '../native/binding.js';
import { argumentError } from '../errors.js';
import { dtypeCode, dtypeOfTypedArray, type DType } from './dtype.js';
import { checkDevice, checkShape } from './validate.js';
import { invoke } from './invoke.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: string;
}

function shapeOf(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedArray;
  }
  return shape;
}

function flatten(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw argumentError('data', 'a rectangular nested array', 'a ragged array');
    if (typeof data !== 'number' && typeof data !== 'boolean') throw argumentError('data', 'numbers or booleans as leaves', data);
    out.push(typeof data === 'boolean' ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw argumentError('data', `a rectangular nested array with ${shape[dim]} items at depth ${dim}`, 'a ragged array');
  }
  for (const d of data) flatten(d, shape, dim + 1, out);
}

function toBuffer(values: number[], dtype: DType): ArrayBufferView {
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'bool') {
    const bad = values.find((v) => !Number.isFinite(v));
    if (bad !== undefined) throw argumentError('data', `finite numbers for dtype ${dtype}`, bad);
  }
  switch (dtype) {
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'int32':
      return Int32Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'int8':
      return Int8Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
    default:
      return Float32Array.from(values);
  }
}

function firstLeaf(data: NestedArray): number | boolean | undefined {
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    if (cur.length === 0) return undefined;
    cur = cur[0] as NestedArray;
  }
  return cur;
}

function placed(t: Tensor, device?: string): Tensor {
  if (device === undefined || device === 'cpu') return t;
  try {
    return t.to(checkDevice('device', device));
  } finally {
    t.dispose();
  }
}

/**
 * A tensor from a nested array or number. Numbers default to float32, booleans to bool;
 * integer dtypes truncate toward zero, as torch.tensor does.
 * @example tensor([[1, 2], [3, 4]], { dtype: 'int64' })
 */
export function tensor(data: NestedArray, opts: TensorOptions = {}): Tensor {
  if (opts.dtype !== undefined) dtypeCode(opts.dtype);
  const shape = shapeOf(data);
  const values: number[] = [];
  flatten(data, shape, 0, values);
  const dtype = opts.dtype ?? (typeof firstLeaf(data) === 'boolean' ? 'bool' : 'float32');
  const buf = toBuffer(values, dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype);
  let t = new Tensor(native.fromBuffer(buf, shape, dtypeCode(dtypeOfBuffer(buf, dtype))));
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const cast = t.to(dtype);
    t.dispose();
    t = cast;
  }
  return placed(t, opts.device);
}

function dtypeOfBuffer(buf: ArrayBufferView, wanted: DType): DType {
  return wanted === 'bool' ? 'bool' : dtypeOfTypedArray(buf);
}

/**
 * A tensor copied from a typed array, with the given shape; the dtype follows the array
 * unless given (a Uint16Array holds raw float16/bfloat16 bits).
 * @example fromTypedArray(new Float32Array([1, 2, 3, 4]), [2, 2])
 */
export function fromTypedArray(data: ArrayBufferView, shape: number[], opts: TensorOptions & { dtype?: DType } = {}): Tensor {
  checkShape('shape', shape);
  if (!ArrayBuffer.isView(data) || data instanceof DataView) throw argumentError('data', 'a typed array', data);
  const numel = shape.reduce((a, b) => a * b, 1);
  const elemBytes = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (data.byteLength / elemBytes !== numel) {
    throw argumentError('data', `${numel} elements for shape [${shape.join(', ')}]`, `${data.byteLength / elemBytes} elements`);
  }
  const dtype = opts.dtype ?? dtypeOfTypedArray(data);
  if (opts.dtype !== undefined) checkBytes(data, dtype);
  return placed(new Tensor(native.fromBuffer(data, shape, dtypeCode(dtype))), opts.device);
}

/** Raw bytes handed over with an explicit dtype must have that dtype's element size. */
function checkBytes(data: ArrayBufferView, dtype: DType): void {
  const size: Record<DType, number> = { uint8: 1, int8: 1, bool: 1, int16: 2, float16: 2, bfloat16: 2, int32: 4, float32: 4, int64: 8, float64: 8 };
  const elemBytes = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (size[dtype] !== elemBytes) throw argumentError('data', `a typed array with ${size[dtype]}-byte elements for dtype ${dtype}`, data);
}

const factory = (o: TensorOptions, fallback: DType | null = 'float32'): unknown[] => [
  o.dtype !== undefined ? dtypeCode(o.dtype) : fallback === null ? undefined : dtypeCode(fallback),
  null,
  o.device === undefined ? null : checkDevice('device', o.device),
  null,
];

export const zeros = (shape: number[], o: TensorOptions = {}): Tensor => invoke('zeros', [checkShape('shape', shape), ...factory(o)]) as Tensor;
export const ones = (shape: number[], o: TensorOptions = {}): Tensor => invoke('ones', [checkShape('shape', shape), ...factory(o)]) as Tensor;
export const full = (shape: number[], value: number, o: TensorOptions = {}): Tensor =>
  invoke('full', [checkShape('shape', shape), value, ...factory(o)]) as Tensor;
export const eye = (n: number, o: TensorOptions = {}): Tensor => invoke('eye', [n, ...factory(o)]) as Tensor;
export const arange = (start: number, end: number, step = 1, o: TensorOptions = {}): Tensor =>
  invoke('arange.start_step', [start, end, step, ...factory(o, Number.isInteger(start + end + step) ? 'int64' : 'float32')]) as Tensor;
export const linspace = (start: number, end: number, steps: number, o: TensorOptions = {}): Tensor =>
  invoke('linspace', [start, end, steps, ...factory(o)]) as Tensor;

/** Uniform in [0, 1), from the global generator: after manualSeed(s) it gives torch.rand's numbers. */
export const rand = (shape: number[], o: TensorOptions = {}): Tensor => invoke('rand', [checkShape('shape', shape), ...factory(o)]) as Tensor;
export const randn = (shape: number[], o: TensorOptions = {}): Tensor => invoke('randn', [checkShape('shape', shape), ...factory(o)]) as Tensor;
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: number[], o: TensorOptions = {}): Tensor => {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw argumentError('high', `an integer above low (${low})`, high);
  return invoke('randint.low', [low, high, checkShape('shape', shape), ...factory(o, 'int64')]) as Tensor;
};
export const randperm = (n: number, o: TensorOptions = {}): Tensor => invoke('randperm', [n, ...factory(o, 'int64')]) as Tensor;
/** Draws 1 with probability p (a number, or a tensor of probabilities). */
export const bernoulli = (p: Tensor, prob?: number): Tensor =>
  (prob === undefined ? invoke('bernoulli', [p]) : invoke('bernoulli.p', [p, prob])) as Tensor;

export const cat = (tensors: Tensor[], dim = 0): Tensor => invoke('cat', [tensors, dim]) as Tensor;
export const stack = (tensors: Tensor[], dim = 0): Tensor => invoke('stack', [tensors, dim]) as Tensor;
/** Picks a where condition is true, else b; either may be a number, as in torch.where. */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const overload = typeof a === 'number' ? (typeof b === 'number' ? 'where.Scalar' : 'where.ScalarSelf') : typeof b === 'number' ? 'where.ScalarOther' : 'where.self';
  return invoke(overload, [condition, a, b]) as Tensor;
}
