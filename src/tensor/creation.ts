/** Making tensors: from JS data, filled, ranges, random (all from the seedable global generator). */
import { native } from '../native/binding.js';
import { argumentError } from '../errors.js';
import { dtypeCode, dtypeOfTypedArray, type DType } from './dtype.js';
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
    out.push(typeof data === 'boolean' ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw argumentError('data', `a rectangular nested array with ${shape[dim]} items at depth ${dim}`, 'a ragged array');
  }
  for (const d of data) flatten(d, shape, dim + 1, out);
}

function toBuffer(values: number[], dtype: DType): ArrayBufferView {
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
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/** A tensor from a nested array or number. Numbers default to float32, booleans to bool. */
export function tensor(data: NestedArray, opts: TensorOptions = {}): Tensor {
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

/** A tensor copied from a typed array, with the given shape. */
export function fromTypedArray(data: ArrayBufferView, shape: number[], opts: TensorOptions & { dtype?: DType } = {}): Tensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  const elemBytes = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (data.byteLength / elemBytes !== numel) {
    throw argumentError('data', `${numel} elements for shape [${shape.join(', ')}]`, `${data.byteLength / elemBytes} elements`);
  }
  const dtype = opts.dtype ?? dtypeOfTypedArray(data);
  return placed(new Tensor(native.fromBuffer(data, shape, dtypeCode(dtype))), opts.device);
}

const factory = (o: TensorOptions, fallback: DType | null = 'float32'): unknown[] => [
  o.dtype !== undefined ? dtypeCode(o.dtype) : fallback === null ? undefined : dtypeCode(fallback),
  null,
  o.device ?? null,
  null,
];

export const zeros = (shape: number[], o: TensorOptions = {}): Tensor => invoke('zeros', [shape, ...factory(o)]) as Tensor;
export const ones = (shape: number[], o: TensorOptions = {}): Tensor => invoke('ones', [shape, ...factory(o)]) as Tensor;
export const full = (shape: number[], value: number, o: TensorOptions = {}): Tensor =>
  invoke('full', [shape, value, ...factory(o)]) as Tensor;
export const eye = (n: number, o: TensorOptions = {}): Tensor => invoke('eye', [n, ...factory(o)]) as Tensor;
export const arange = (start: number, end: number, step = 1, o: TensorOptions = {}): Tensor =>
  invoke('arange.start_step', [start, end, step, ...factory(o, Number.isInteger(start + end + step) ? 'int64' : 'float32')]) as Tensor;
export const linspace = (start: number, end: number, steps: number, o: TensorOptions = {}): Tensor =>
  invoke('linspace', [start, end, steps, ...factory(o)]) as Tensor;

export const rand = (shape: number[], o: TensorOptions = {}): Tensor => invoke('rand', [shape, ...factory(o)]) as Tensor;
export const randn = (shape: number[], o: TensorOptions = {}): Tensor => invoke('randn', [shape, ...factory(o)]) as Tensor;
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: number[], o: TensorOptions = {}): Tensor =>
  invoke('randint.low', [low, high, shape, ...factory(o, 'int64')]) as Tensor;
export const randperm = (n: number, o: TensorOptions = {}): Tensor => invoke('randperm', [n, ...factory(o, 'int64')]) as Tensor;
/** Draws 1 with probability p (a number, or a tensor of probabilities). */
export const bernoulli = (p: Tensor, prob?: number): Tensor =>
  (prob === undefined ? invoke('bernoulli', [p]) : invoke('bernoulli.p', [p, prob])) as Tensor;

export const cat = (tensors: Tensor[], dim = 0): Tensor => invoke('cat', [tensors, dim]) as Tensor;
export const stack = (tensors: Tensor[], dim = 0): Tensor => invoke('stack', [tensors, dim]) as Tensor;
export const where = (condition: Tensor, a: Tensor, b: Tensor): Tensor => invoke('where.self', [condition, a, b]) as Tensor;
