/**
 * Calls an ATen op through the dispatcher by name. `name` is 'op' or 'op.overload'
 * ('add.Tensor'); args fill the op's schema in order, `undefined` takes the default.
 */
import { native, type Handle } from '../native/binding.js';

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

function fromNative(r: unknown): unknown {
  if (r === null || typeof r !== 'object') return r;
  if (Array.isArray(r)) return r.map(fromNative);
  return wrapHandle(r as Handle);
}

export function invoke(name: string, args: unknown[]): unknown {
  return fromNative(native.callOp(opId(name), args.map(toNative)));
}

/** For in-place ops: runs the op and drops the aliasing result handle. */
export function invokeInPlace(name: string, args: unknown[]): void {
  native.callOp(opId(name), args.map(toNative), true);
}

export function opSchema(name: string): string {
  return native.opSchema(opId(name));
}
