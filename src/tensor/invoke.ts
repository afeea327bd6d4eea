/**
 * Calls an ATen op through the dispatcher by name. `name` is 'op' or 'op.overload'
 * ('add.Tensor'); args fill the op's schema in order, `undefined` takes the default.
 */
import { native, type Handle } from '../native/binding.js';
import { TlcvError, TorchError } from '../errors.js';

const ids = new Map<string, number>();

export function opId(name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    const dot = name.indexOf('.');
    const base = dot < 0 ? name : name.slice(0, dot);
    const overload = dot < 0 ? '' : name.slice(dot + 1);
    id = native.resolveOp(base.includes('::') ? base : `aten::${base}`, overload);
    ids.set(name, id);
  }
  return id;
}

/** Anything with a native handle: Tensor implements it. */
export interface HasHandle {
  readonly handle: Handle;
}

type Wrap = (h: Handle) => unknown;
let wrapHandle: Wrap = (h) => h;

/** Tensor registers its constructor here, which keeps this module free of a cycle. */
export function setHandleWrapper(w: Wrap): void {
  wrapHandle = w;
}

function toNative(a: unknown): unknown {
  if (a !== null && typeof a === 'object') {
    if (Array.isArray(a)) return a.map(toNative);
    if ('handle' in a) return (a as HasHandle).handle;
  }
  return a;
}

// A plain loop, not args.map: this runs on every op call, and the tiny-op overhead is
// what the engine benchmark measures.
function argsToNative(args: unknown[]): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i += 1) out[i] = toNative(args[i]);
  return out;
}

function fromNative(r: unknown): unknown {
  if (r === null || typeof r !== 'object') return r;
  if (Array.isArray(r)) return r.map(fromNative);
  return wrapHandle(r as Handle);
}

export function invoke(name: string, args: unknown[]): unknown {
  try {
    return fromNative(native.callOp(opId(name), argsToNative(args)));
  } catch (e) {
    throw withContext(name, args, e);
  }
}

/** For in-place ops: runs the op and drops the aliasing result handle. */
export function invokeInPlace(name: string, args: unknown[]): void {
  try {
    native.callOp(opId(name), argsToNative(args), true);
  } catch (e) {
    throw withContext(name, args, e);
  }
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
