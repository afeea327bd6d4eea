/** Small helpers for owning copies of state dicts, per-epoch seeds and run folders. */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { keep, noGrad, type Tensor } from '../tensor/index.js';

/** Owned copies (kept past every scope): under noGrad a clone records no graph, so no detach is needed. */
export function cloneState(sd: Map<string, Tensor>): Map<string, Tensor> {
  return noGrad(() => new Map([...sd].map(([k, v]) => [k, keep(v.clone())])));
}

export function disposeState(sd: Map<string, Tensor>): void {
  for (const t of sd.values()) t.dispose();
}

/** A seed per epoch, so an epoch's randomness does not depend on how the run got there. */
export function epochSeed(seed: number, epoch: number): number {
  return (seed * 1_000_003 + epoch * 7919) % 2 ** 31;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of atomic writes (`.NAME.PID.HEX.tmp`) that a killed run left in its
 * folder: a checkpoint's can be as large as the model and its optimizer state. Files of a
 * process that is still running are left alone.
 */
export function removeStaleTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}
