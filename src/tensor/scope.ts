/**
 * Explicit tensor lifetimes. Native memory is invisible to the GC, so every tensor made
 * inside `tidy(fn)` is disposed when fn returns, except what fn returns or `keep`s.
 * Scopes nest; `moveToOuter` lets a tensor escape one level.
 *
 * @example
 * const loss = tidy(() => crossEntropy(model.forward(x), y)); // intermediates freed
 */
import { TlcvError } from '../errors.js';
import { guardLater } from './safety-net.js';

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  /** Tensors: puts them under the GC safety net once no scope holds them. */
  guard?(): void;
}

const scopes: Set<Disposable>[] = [];

/** Registers a new tensor with the innermost scope (a new tensor cannot have been kept yet). */
export function trackInScope(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top !== undefined) top.add(t);
  else guardLater(t);
}

/** Excludes a tensor from disposal by every enclosing scope. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  t.guard?.();
  return t;
}

/** Moves a tensor from the innermost scope to the one around it (or out of all scopes). */
export function moveToOuter<T extends Disposable>(t: T): T {
  const n = scopes.length;
  if (n === 0) return t;
  scopes[n - 1]!.delete(t);
  if (n > 1) scopes[n - 2]!.add(t);
  else t.guard?.();
  return t;
}

function collect(value: unknown, out: Set<Disposable>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'isDisposed' in v;
}

/** Runs fn in a new scope; tensors it returns move to the enclosing scope. Rejects Promises. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TlcvError('ARGUMENT', 'tidy() cannot run an async function: tensors would be disposed before it settles');
  }
  if (result === null || typeof result !== 'object') {
    for (const t of scope) t.dispose();
    return result;
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors, 0);
  for (const t of scope) {
    if (!survivors.has(t)) t.dispose();
  }
  const outer = scopes[scopes.length - 1];
  for (const t of survivors) {
    if (!scope.has(t)) continue;
    if (outer !== undefined) outer.add(t);
    else t.guard?.();
  }
  return result;
}

/** Alias of tidy, named as TorchSharp and the brief name it. */
export const scope = tidy;

export function scopeDepth(): number {
  return scopes.length;
}

/** Disposes every tensor in a value (tensor, array, object of tensors). */
export function disposeAll(value: unknown): void {
  const found = new Set<Disposable>();
  collect(value, found, 0);
  for (const t of found) t.dispose();
}
