/** Process-wide engine state: seeds, threads, grad and autocast modes, live-tensor stats. */
import { readFileSync } from 'node:fs';
import { native } from '../native/binding.js';
import { argumentError } from '../errors.js';
import { dtypeCode } from './dtype.js';

/** Seeds libtorch's global generator (CPU and CUDA). */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw argumentError('seed', 'a non-negative integer', seed);
  native.manualSeed(seed);
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw argumentError('threads', 'a positive integer', n);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.runtimeInfo().threads;
}

export function runtimeInfo(): ReturnType<typeof native.runtimeInfo> {
  return native.runtimeInfo();
}

export function cudaAvailable(): boolean {
  return native.runtimeInfo().cudaAvailable;
}

/** Tensors held by JS right now, their bytes, and how many were ever made. */
export function liveTensors(): { count: number; bytes: number; created: number } {
  return native.liveStats();
}

function withGradMode<T>(on: boolean, fn: () => T): T {
  const previous = native.setGradEnabled(on);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs fn without recording autograd history. */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);

/** Runs fn in libtorch's inference mode: cheaper than noGrad; tensors made here never need grad. */
export function inferenceMode<T>(fn: () => T): T {
  native.inferenceMode(true);
  try {
    return fn();
  } finally {
    native.inferenceMode(false);
  }
}

/** Runs fn under autocast (bf16 on CPU by default), as torch.autocast does. */
export function autocast<T>(fn: () => T, opts: { device?: 'cpu' | 'cuda'; dtype?: 'bfloat16' | 'float16'; enabled?: boolean } = {}): T {
  const device = opts.device ?? 'cpu';
  const dtype = dtypeCode(opts.dtype ?? (device === 'cpu' ? 'bfloat16' : 'float16'));
  const previous = native.setAutocast(device, opts.enabled ?? true, dtype);
  try {
    return fn();
  } finally {
    native.setAutocast(device, previous, dtype);
  }
}

let bf16Cache: boolean | undefined;
/** Whether this CPU has native bf16 dot products (AVX512-BF16 or AMX), where bf16 autocast pays off. */
export function cpuHasFastBf16(): boolean {
  if (bf16Cache === undefined) {
    try {
      const info = readFileSync('/proc/cpuinfo', 'utf8');
      bf16Cache = /\b(avx512_bf16|amx_bf16)\b/.test(info);
    } catch {
      bf16Cache = false;
    }
  }
  return bf16Cache;
}
