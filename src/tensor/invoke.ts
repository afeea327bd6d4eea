/**
 * Calls an ATen op through the dispatcher by name. `name` is 'op' or 'op.overload'
 * ('add.Tensor'); args fill the op's schema in order, `undefined` takes the default.
 */
import { native, ARG_KIND, type Handle } from '../native/binding.js';
import { TlcvError, TorchError } from '../errors.js';

/** A resolved op: its dispatcher id and how its arguments and results travel. */
interface OpEntry {
  id: number;
  args: number[];
  returns: number[];
}

const ops = new Map<string, OpEntry>();

function opEntry(name: string): OpEntry {
  let op = ops.get(name);
  if (op === undefined) {
    const dot = name.indexOf('.');
    const base = dot < 0 ? name : name.slice(0, dot);
    const overload = dot < 0 ? '' : name.slice(dot + 1);
    const id = native.resolveOp(base.includes('::') ? base : `aten::${base}`, overload);
    op = { id, ...native.opInfo(id) };
    ops.set(name, op);
  }
  return op;
}

export function opId(name: string): number {
  return opEntry(name).id;
}

/** Anything with a native handle: Tensor implements it. */
export interface HasHandle {
  readonly handle: Handle;
}

type TensorClass = new (h: Handle) => HasHandle;
let Tensor: TensorClass | null = null;

/** Tensor registers its class here, which keeps this module free of a cycle. */
export function setTensorClass(cls: TensorClass): void {
  Tensor = cls;
}

function wrap(h: unknown): unknown {
  return h === null ? null : new Tensor!(h as Handle);
}

function describeValue(a: unknown): string {
  if (Tensor !== null && a instanceof Tensor) return 'a tensor';
  if (Array.isArray(a)) return 'an array';
  return a === null ? 'null' : typeof a === 'string' ? `'${a}'` : typeof a === 'object' ? 'an object' : String(a);
}

function kindError(name: string, index: number, expected: string, a: unknown): TlcvError {
  return new TlcvError('ARGUMENT', `aten::${name}: argument '${argumentName(name, index)}' expects ${expected}, got ${describeValue(a)}`);
}

function tensorList(name: string, index: number, list: unknown, optional: boolean): unknown {
  if (list === undefined) return list;
  if (!Array.isArray(list)) throw kindError(name, index, 'an array of tensors', list);
  return list.map((e: unknown) => {
    if (e instanceof Tensor!) return e.handle;
    if (optional && (e === null || e === undefined)) return null;
    throw kindError(name, index, 'an array of tensors', e);
  });
}

/**
 * Tensors become their handles, checked against the op's schema: handles are plain numbers,
 * so a number where a tensor belongs must be stopped here.
 */
function argsToNative(name: string, op: OpEntry, args: unknown[]): unknown[] {
  const kinds = op.args;
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i];
    const k = kinds[i] ?? ARG_KIND.value;
    if (k === ARG_KIND.tensor || k === ARG_KIND.optionalTensor) {
      if (a instanceof Tensor!) out[i] = a.handle;
      else if (a === undefined || (a === null && k === ARG_KIND.optionalTensor)) out[i] = a;
      else throw kindError(name, i, 'a tensor', a);
    } else if (k === ARG_KIND.value) {
      if (a instanceof Tensor!) throw kindError(name, i, 'a plain value, not a tensor', a);
      out[i] = a;
    } else {
      out[i] = tensorList(name, i, a, k === ARG_KIND.optionalTensorList);
    }
  }
  return out;
}

// The element-wise methods that dominate tiny-op time take callHot below, not this path.
function callNative(name: string, op: OpEntry, discard: boolean, args: unknown[]): unknown {
  return native.callOp(op.id, discard, ...argsToNative(name, op, args));
}

function resultFromNative(kind: number, r: unknown): unknown {
  if (kind === ARG_KIND.tensor || kind === ARG_KIND.optionalTensor) return wrap(r);
  if (kind === ARG_KIND.value) return r;
  return (r as unknown[]).map(wrap);
}

function fromNative(op: OpEntry, r: unknown): unknown {
  const kinds = op.returns;
  if (kinds.length === 1) return resultFromNative(kinds[0]!, r);
  return (r as unknown[]).map((v, i) => resultFromNative(kinds[i]!, v));
}

/** Sees each op that `invoke` ran: its name, arguments and result. */
export type OpObserver = (name: string, args: unknown[], result: unknown) => void;
let observer: OpObserver | null = null;

/**
 * Installs an observer of the ops `invoke` runs (null removes it) and returns the one it
 * replaced. For counting what a forward does (models/model-cost.ts counts its multiply-adds);
 * the hot element-wise methods (callHot) are not observed.
 *
 * @example
 * const before = observeOps((name) => names.push(name));
 * model.forward(x);
 * observeOps(before);
 */
export function observeOps(fn: OpObserver | null): OpObserver | null {
  const previous = observer;
  observer = fn;
  return previous;
}

export function invoke(name: string, args: unknown[]): unknown {
  let result: unknown;
  try {
    const op = opEntry(name);
    result = fromNative(op, callNative(name, op, false, args));
  } catch (e) {
    throw withContext(name, args, e);
  }
  observer?.(name, args, result);
  return result;
}

/** For in-place ops: runs the op and drops the aliasing result handle. */
export function invokeInPlace(name: string, args: unknown[]): void {
  try {
    callNative(name, opEntry(name), true, args);
  } catch (e) {
    throw withContext(name, args, e);
  }
}

/** An op name resolved on first use, for the hottest Tensor methods (see callHot). */
export class OpRef {
  #entry: OpEntry | null = null;
  constructor(readonly name: string) {}
  get entry(): OpEntry {
    return (this.#entry ??= opEntry(this.name));
  }
}

// The Scalar and Tensor overloads of each element-wise op, resolved once: these methods are
// the tiny ops of every optimizer step, where a name lookup per call shows in the benchmark.
const overloads = new Map<string, [scalar: OpRef, tensor: OpRef]>();
export function overload(name: string, other: unknown): OpRef {
  let pair = overloads.get(name);
  if (pair === undefined) {
    pair = [new OpRef(`${name}.Scalar`), new OpRef(`${name}.Tensor`)];
    overloads.set(name, pair);
  }
  return typeof other === 'number' ? pair[0] : pair[1];
}

/**
 * The hot path of element-wise Tensor methods and the optimizers' in-place ops: the op is
 * resolved once, `self` and `tensors` are tensors and `scalar` a number, so none of invoke's
 * per-argument checks are needed. Anything else goes through invoke, which names the mistake.
 */
export function callHot(ref: OpRef, discard: boolean, self: HasHandle, other: unknown, scalar?: number, third?: unknown): unknown {
  const T = Tensor!;
  // A number `other` is right only for a Scalar overload (two tensors means addcmul_/addcdiv_).
  const otherOk = other instanceof T || (third === undefined && typeof other === 'number');
  if (!otherOk || !(third === undefined || third instanceof T) || !(scalar === undefined || typeof scalar === 'number')) {
    const args = third === undefined ? [self, other, scalar] : [self, other, third, scalar];
    if (scalar === undefined) args.pop();
    return discard ? invokeInPlace(ref.name, args) : invoke(ref.name, args);
  }
  try {
    const { id } = ref.entry;
    const o = other instanceof T ? other.handle : other;
    let r: unknown;
    if (third !== undefined) r = native.callOp(id, discard, self.handle, o, third.handle, scalar);
    else if (scalar === undefined) r = native.callOp(id, discard, self.handle, o);
    else r = native.callOp(id, discard, self.handle, o, scalar);
    return discard ? undefined : new T(r as Handle);
  } catch (e) {
    throw withContext(ref.name, third === undefined ? [self, other, scalar] : [self, other, third, scalar], e);
  }
}

/**
 * Whether the installed libtorch registers an op under this name (any overload), asked of the
 * dispatcher's schema table: for ops that exist in one libtorch version and not another
 * (`scaled_dot_product_attention` is public from 2.0, private `_scaled_dot_product_attention` in 1.13).
 *
 * @example
 * if (opExists('scaled_dot_product_attention')) ...
 */
export function opExists(name: string): boolean {
  return native.opOverloads(name.includes('::') ? name : `aten::${name}`).length > 0;
}

export function opSchema(name: string): string {
  return native.opSchema(opId(name));
}

/** The schema's argument names, in order ('self', 'other', 'alpha' for add.Tensor). */
export function opArgumentNames(name: string): string[] {
  const schema = opSchema(name);
  const inner = schema.slice(schema.indexOf('(') + 1, schema.lastIndexOf(') ->'));
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= inner.length; i += 1) {
    const ch = inner[i];
    if (ch === '(' || ch === '[') depth += 1;
    else if (ch === ')' || ch === ']') depth -= 1;
    else if ((ch === ',' && depth === 0) || i === inner.length) {
      const part = inner.slice(start, i).trim().split('=')[0]!.trim();
      if (part !== '*' && part !== '') names.push(part.split(/\s+/).pop()!);
      start = i + 1;
    }
  }
  return names;
}

function isDisposedTensor(a: unknown): boolean {
  return a !== null && typeof a === 'object' && 'isDisposed' in a && (a as { isDisposed: boolean }).isDisposed;
}

function argumentName(name: string, index: number): string {
  try {
    return opArgumentNames(name)[index] ?? `#${index}`;
  } catch {
    return `#${index}`;
  }
}

/**
 * Errors from a call say which op failed, and for a disposed tensor which argument held it;
 * libtorch's own messages often name neither. Marshalling errors from the addon (an argument
 * of the wrong JS type) become ARGUMENT errors, as a user passed them.
 */
function withContext(name: string, args: unknown[], e: unknown): unknown {
  const op = `aten::${name}`;
  if (e instanceof TlcvError && e.code === 'DISPOSED') {
    for (let i = 0; i < args.length; i += 1) {
      const a = args[i];
      const list = Array.isArray(a) ? a : [a];
      if (list.some(isDisposedTensor)) {
        return new TlcvError('DISPOSED', `${op}: tensor argument '${argumentName(name, i)}' was used after dispose()`);
      }
    }
    return e;
  }
  if (e instanceof TorchError) {
    if (e.message.startsWith(op)) return e;
    const wrapped = new TorchError(`${op}: ${withoutRegistrations(e.message)}`, e.kind);
    wrapped.cause = e;
    return wrapped;
  }
  if (e instanceof TypeError || (e instanceof Error && !(e instanceof TlcvError))) {
    const wrapped = new TlcvError('ARGUMENT', e.message.includes(op) ? e.message : `${op}: ${e.message}`);
    wrapped.cause = e;
    return wrapped;
  }
  return e;
}

/** "Could not run ... from the 'X' backend" errors end in a list of kernel registrations with C++ file names. */
function withoutRegistrations(message: string): string {
  return message.replace(/\n\n\w+: (fallthrough )?registered at [\s\S]*$/, '');
}
