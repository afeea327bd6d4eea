/**
 * Argument checks done in TS before the native boundary, so a bad argument is reported by
 * its name with what was expected, rather than as libtorch's message about some inner op.
 */
import { TlcvError, TorchError, argumentError } from '../errors.js';
import { native } from '../native/binding.js';

/** A shape for a new tensor: an array of non-negative integers. */
export function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw argumentError(name, 'an array of non-negative integers', shape);
  }
  return shape as number[];
}

/** A target shape for reshape/view: integers, each >= 0 except at most one -1 (inferred). */
export function checkTargetShape(name: string, shape: unknown): number[] {
  const ok =
    Array.isArray(shape) &&
    shape.every((d) => Number.isInteger(d) && (d as number) >= -1) &&
    shape.filter((d) => d === -1).length <= 1;
  if (!ok) throw argumentError(name, 'an array of non-negative integers with at most one -1', shape);
  return shape as number[];
}

const DEVICE = /^(cpu|cuda|mps|meta)(:\d+)?$/;

let cudaDevices: number | undefined;

/**
 * A device string: 'cpu', 'cuda', 'cuda:1', ... A CUDA device this build cannot reach fails
 * here: libtorch's own message for it is a page-long dump of dispatcher registrations.
 */
export const isDeviceString = (s: unknown): s is string => typeof s === 'string' && DEVICE.test(s);

export function checkDevice(name: string, device: unknown): string {
  if (!isDeviceString(device)) throw argumentError(name, "a device such as 'cpu', 'cuda' or 'cuda:0'", device);
  if (device.startsWith('cuda')) {
    cudaDevices ??= native.runtimeInfo().cudaDeviceCount;
    const index = device.includes(':') ? Number(device.slice(5)) : 0;
    if (cudaDevices === 0) {
      throw new TorchError(`${name} '${device}' is not available: this libtorch has no CUDA support or sees no GPU; use 'cpu'`, 'device');
    }
    if (index >= cudaDevices) throw new TorchError(`${name} '${device}' is not available: this machine has ${cudaDevices} CUDA device(s)`, 'device');
  }
  return device;
}

/** One of a fixed set of option strings. */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw argumentError(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

export function checkProbability(name: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw argumentError(name, 'a probability in [0, 1]', p);
  return p;
}

/** Like argumentError, for a received value that is already described in words. */
export function mismatchError(name: string, expected: string, received: string): TlcvError {
  return new TlcvError('ARGUMENT', `Expected ${expected} for ${name} but received ${received}`);
}
