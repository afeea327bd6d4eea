/**
 * The typed facade over a libtorch tensor. Every method that makes a tensor registers
 * it in the current `tidy` scope; call `dispose()` on tensors made outside a scope.
 */
import { native, type Handle, type TensorMeta } from '../native/binding.js';
import { TlcvError, TorchError, argumentError } from '../errors.js';
import { dtypeCode, dtypeFromCode, typedArrayFor, MEMORY_FORMAT, type DType, type MemoryFormat, type TypedArray } from './dtype.js';
import { OpRef, callHot, invoke, invokeInPlace, overload, setTensorClass } from './invoke.js';
import { trackInScope, keep } from './scope.js';
import { safetyNet } from './safety-net.js';
import { decodeHalf } from './half.js';
import { checkDevice, checkTargetShape, isDeviceString } from './validate.js';

export type TensorLike = Tensor | number;
export type NestedArray = number | boolean | NestedArray[];

const ADDCMUL_ = new OpRef('addcmul_');
const ADDCDIV_ = new OpRef('addcdiv_');
export class Tensor {
  #handle: Handle | null;
  #meta: TensorMeta | null = null;
  #guarded = false;

  constructor(handle: Handle) {
    this.#handle = handle;
    trackInScope(this);
  }

  get handle(): Handle {
    if (this.#handle === null) throw new TlcvError('DISPOSED', 'tensor was used after dispose()');
    return this.#handle;
  }

  private get meta(): TensorMeta {
    this.#meta ??= native.meta(this.handle);
    return this.#meta;
  }

  get shape(): number[] {
    return [...this.meta.shape];
  }
  get dtype(): DType {
    return dtypeFromCode(this.meta.dtype);
  }
  get device(): string {
    return this.meta.device;
  }
  /** Element strides per dim; a channels-last [N, C, H, W] tensor has stride 1 on C. */
  strides(): number[] {
    return this.meta.shape.map((_, d) => invoke('stride.int', [this, d]) as number);
  }
  get ndim(): number {
    return this.meta.shape.length;
  }
  get numel(): number {
    return this.meta.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.meta.shape;
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw argumentError('dim', `an index in [-${s.length}, ${s.length})`, dim);
    return s[d]!;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }
  dispose(): void {
    if (this.#handle !== null) {
      if (this.#guarded) safetyNet.unregister(this);
      native.release(this.#handle);
      this.#handle = null;
    }
  }
  /**
   * Puts this tensor under the FinalizationRegistry safety net, which frees it if it is
   * garbage-collected undisposed. Scopes call it for tensors that leave every scope; a tensor
   * inside a scope needs none, as the scope holds it and disposes it.
   * @internal
   */
  guard(): void {
    if (this.#handle !== null && !this.#guarded) {
      safetyNet.register(this, this.#handle, this);
      this.#guarded = true;
    }
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Keeps this tensor alive past every enclosing tidy scope. */
  keep(): this {
    return keep(this);
  }

  toTypedArray(): TypedArray {
    return typedArrayFor(this.dtype, native.toBuffer(this.handle));
  }
  /** Flat array of JS numbers (int64 converted, bool as 0/1, 16-bit floats decoded). */
  toFlatArray(): number[] {
    const a = this.toTypedArray();
    const dtype = this.dtype;
    if (dtype === 'float16' || dtype === 'bfloat16') return decodeHalf(a as Uint16Array, dtype);
    return Array.from(a as ArrayLike<number | bigint>, Number);
  }
  toArray(): NestedArray {
    const flat = this.toFlatArray();
    const shape = this.meta.shape;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === shape.length) return this.dtype === 'bool' ? flat[offset] !== 0 : flat[offset]!;
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }
  /** The value of a one-element tensor; a bool tensor gives 0 or 1, int64 beyond 2^53 rounds. */
  item(): number {
    return Number(native.item(this.handle));
  }
  toString(): string {
    return native.toString(this.handle);
  }

  // autograd
  get requiresGrad(): boolean {
    return native.meta(this.handle).requiresGrad;
  }
  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }
  requiresGrad_(on = true): this {
    native.setRequiresGrad(this.handle, on);
    return this;
  }
  /** A new handle to the gradient each call (dispose it or read it inside tidy). */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  backward(gradient?: Tensor, retainGraph = false): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }
  detach(): Tensor {
    return invoke('detach', [this]) as Tensor;
  }

  // conversion
  clone(): Tensor {
    return invoke('clone', [this]) as Tensor;
  }
  contiguous(format: MemoryFormat = 'contiguous'): Tensor {
    return invoke('contiguous', [this, MEMORY_FORMAT[format]]) as Tensor;
  }
  /**
   * Converts dtype, device or memory layout; returns a new handle (a view when nothing changes).
   * @example x.to('float64'); x.to('cuda:0'); x.to({ memoryFormat: 'channelsLast' })
   */
  to(target: DType | string | { dtype?: DType; device?: string; memoryFormat?: MemoryFormat }): Tensor {
    const o = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: checkTarget(target) }) : target;
    if (o.device !== undefined) checkDevice('device', o.device);
    if (o.dtype !== undefined) dtypeCode(o.dtype);
    if (o.memoryFormat !== undefined && !(o.memoryFormat in MEMORY_FORMAT)) {
      throw argumentError('memoryFormat', `one of ${Object.keys(MEMORY_FORMAT).join(', ')}`, o.memoryFormat);
    }
    const mf = o.memoryFormat === undefined ? null : MEMORY_FORMAT[o.memoryFormat];
    return invoke('to.dtype_layout', [this, o.dtype === undefined ? null : dtypeCode(o.dtype), null, o.device ?? null, null, false, false, mf]) as Tensor;
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }

  // views and joins
  reshape(shape: number[]): Tensor {
    return invoke('reshape', [this, checkTargetShape('shape', shape)]) as Tensor;
  }
  view(shape: number[]): Tensor {
    return invoke('view', [this, checkTargetShape('shape', shape)]) as Tensor;
  }
  permute(dims: number[]): Tensor {
    return invoke('permute', [this, dims]) as Tensor;
  }
  transpose(d0: number, d1: number): Tensor {
    return invoke('transpose.int', [this, d0, d1]) as Tensor;
  }
  squeeze(dim?: number): Tensor {
    return (dim === undefined ? invoke('squeeze', [this]) : invoke('squeeze.dim', [this, dim])) as Tensor;
  }
  unsqueeze(dim: number): Tensor {
    return invoke('unsqueeze', [this, dim]) as Tensor;
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return invoke('flatten.using_ints', [this, startDim, endDim]) as Tensor;
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return invoke('narrow', [this, dim, start, length]) as Tensor;
  }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return invoke('slice.Tensor', [this, dim, start ?? null, end ?? null, step]) as Tensor;
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return invoke('index_select', [this, dim, index]) as Tensor;
  }
  gather(dim: number, index: Tensor): Tensor {
    return invoke('gather', [this, dim, index]) as Tensor;
  }
  /** Advanced indexing along the first dims (PyTorch's `t[idx]`). */
  index(indices: (Tensor | null)[]): Tensor {
    return invoke('index.Tensor', [this, indices]) as Tensor;
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return invoke('masked_fill.Scalar', [this, mask, value]) as Tensor;
  }
  maskedSelect(mask: Tensor): Tensor {
    return invoke('masked_select', [this, mask]) as Tensor;
  }
  expand(shape: number[]): Tensor {
    return invoke('expand', [this, shape]) as Tensor;
  }
  repeat(times: number[]): Tensor {
    return invoke('repeat', [this, times]) as Tensor;
  }

  // element-wise math (broadcasting)
  add(other: TensorLike, alpha = 1): Tensor {
    return callHot(overload('add', other), false, this, other, alpha) as Tensor;
  }
  sub(other: TensorLike, alpha = 1): Tensor {
    return callHot(overload('sub', other), false, this, other, alpha) as Tensor;
  }
  mul(other: TensorLike): Tensor {
    return callHot(overload('mul', other), false, this, other) as Tensor;
  }
  div(other: TensorLike): Tensor {
    return callHot(overload('div', other), false, this, other) as Tensor;
  }
  pow(exponent: TensorLike): Tensor {
    return invoke(typeof exponent === 'number' ? 'pow.Tensor_Scalar' : 'pow.Tensor_Tensor', [this, exponent]) as Tensor;
  }
  maximum(other: Tensor): Tensor {
    return invoke('maximum', [this, other]) as Tensor;
  }
  minimum(other: Tensor): Tensor {
    return invoke('minimum', [this, other]) as Tensor;
  }
  clamp(min?: number, max?: number): Tensor {
    return invoke('clamp', [this, min ?? null, max ?? null]) as Tensor;
  }
  matmul(other: Tensor): Tensor {
    try {
      return invoke('matmul', [this, other]) as Tensor;
    } catch (e) {
      // libtorch's message ("expected scalar type Float but found Long") names neither tensor.
      // Checked only after a failure: under autocast, mixed dtypes are legal.
      if (e instanceof TlcvError && !this.isDisposed && !other.isDisposed && other.dtype !== this.dtype) {
        throw new TorchError(`aten::matmul: expected other to have the dtype of self (${this.dtype}) but received dtype ${other.dtype}`);
      }
      throw e;
    }
  }
  unary(name: 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'sigmoid' | 'tanh' | 'relu' | 'sign' | 'floor' | 'ceil' | 'round' | 'logical_not' | 'isfinite' | 'reciprocal' | 'sin' | 'cos'): Tensor {
    return invoke(name, [this]) as Tensor;
  }
  neg(): Tensor {
    return this.unary('neg');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }

  // comparisons
  eq(other: TensorLike): Tensor {
    return callHot(overload('eq', other), false, this, other) as Tensor;
  }
  ne(other: TensorLike): Tensor {
    return callHot(overload('ne', other), false, this, other) as Tensor;
  }
  lt(other: TensorLike): Tensor {
    return callHot(overload('lt', other), false, this, other) as Tensor;
  }
  le(other: TensorLike): Tensor {
    return callHot(overload('le', other), false, this, other) as Tensor;
  }
  gt(other: TensorLike): Tensor {
    return callHot(overload('gt', other), false, this, other) as Tensor;
  }
  ge(other: TensorLike): Tensor {
    return callHot(overload('ge', other), false, this, other) as Tensor;
  }

  // reductions; dim undefined reduces everything
  sum(dim?: number | number[], keepdim = false): Tensor {
    return (dim === undefined ? invoke('sum', [this]) : invoke('sum.dim_IntList', [this, dim, keepdim])) as Tensor;
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return (dim === undefined ? invoke('mean', [this]) : invoke('mean.dim', [this, dim, keepdim])) as Tensor;
  }
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return invoke('std.dim', [this, dim ?? null, unbiased, keepdim]) as Tensor;
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return invoke('max', [this]) as Tensor;
    const [values, indices] = invoke('max.dim', [this, dim, keepdim]) as [Tensor, Tensor];
    return { values, indices };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return invoke('min', [this]) as Tensor;
    const [values, indices] = invoke('min.dim', [this, dim, keepdim]) as [Tensor, Tensor];
    return { values, indices };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return invoke('argmax', [this, dim ?? null, keepdim]) as Tensor;
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return invoke('argmin', [this, dim ?? null, keepdim]) as Tensor;
  }

  // in-place, as optimizers need them; each returns this
  add_(other: TensorLike, alpha = 1): this {
    callHot(overload('add_', other), true, this, other, alpha);
    return this;
  }
  sub_(other: TensorLike, alpha = 1): this {
    callHot(overload('sub_', other), true, this, other, alpha);
    return this;
  }
  mul_(other: TensorLike): this {
    callHot(overload('mul_', other), true, this, other);
    return this;
  }
  div_(other: TensorLike): this {
    callHot(overload('div_', other), true, this, other);
    return this;
  }
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    callHot(ADDCMUL_, true, this, t1, value, t2);
    return this;
  }
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    callHot(ADDCDIV_, true, this, t1, value, t2);
    return this;
  }
  zero_(): this {
    invokeInPlace('zero_', [this]);
    return this;
  }
  fill_(value: number): this {
    invokeInPlace('fill_.Scalar', [this, value]);
    return this;
  }
  copy_(src: Tensor): this {
    invokeInPlace('copy_', [this, src]);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    invokeInPlace('clamp_', [this, min ?? null, max ?? null]);
    return this;
  }
}

const DTYPES = ['uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'float32', 'float64', 'bool', 'bfloat16'];
function isDType(s: string): s is DType {
  return DTYPES.includes(s);
}

function checkTarget(s: string): string {
  if (!isDeviceString(s)) throw argumentError('target', `a dtype (${DTYPES.join(', ')}) or a device such as 'cpu' or 'cuda:0'`, s);
  return checkDevice('target', s);
}

setTensorClass(Tensor);
