/** Spawns the real `tlcv` binary, as users and scripts do. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `nodeArgs` go to node before the script (e.g. --import of a hook). */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: Record<string, string>; nodeArgs?: string[] } = {}): CliResult {
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), resolve('bin', 'tlcv.js'), ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 300_000,
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A node stack frame line, which user errors must never print. */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
