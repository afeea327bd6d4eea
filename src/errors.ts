/**
 * One error family for tlcv. User errors (bad file, bad flag, bad shape) carry a
 * `code` and are printed by the CLI as one line with exit code 2; anything else is a bug
 * and keeps its stack.
 */
export type ErrorCode =
  | 'ARGUMENT'
  | 'DATA'
  | 'DATA_SPEC'
  | 'FILE'
  | 'WEIGHTS'
  | 'MODEL'
  | 'TORCH'
  | 'DISPOSED'
  | 'NATIVE_LOAD'
  | 'TRAINING'
  | 'DISTRIBUTED'
  | 'ENGINE';

export class TlcvError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'TlcvError';
    this.code = code;
  }
}

/** A libtorch error (bad shape, bad dtype) with libtorch's own message, without its C++ backtrace. */
export class TorchError extends TlcvError {
  readonly kind: string;
  constructor(message: string, kind = 'torch') {
    super(kind === 'disposed' ? 'DISPOSED' : 'TORCH', message);
    this.name = 'TorchError';
    this.kind = kind;
  }
}

/** Names the argument, what was expected and what was received. */
export function argumentError(name: string, expected: string, received: unknown): TlcvError {
  return new TlcvError('ARGUMENT', `Expected ${expected} for ${name} but received ${describeValue(received)}`);
}

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(describeValue).join(', ')}]`;
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  return v.constructor?.name ?? 'object';
}

export function isUserError(e: unknown): e is TlcvError {
  return e instanceof TlcvError && e.code !== 'NATIVE_LOAD';
}
