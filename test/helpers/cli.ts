/** Spawns the real `tlcv` binary, as users and scripts do. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
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

/**
 * A user error as the CLI must report it: exit code 2, nothing on stdout, one line on stderr
 * (besides lines matching `ignore`, such as a progress note printed before the error) that
 * matches `line`, no stack trace, and `out` (when given) not created.
 */
export function assertUserError(args: string[], line: RegExp, o: { out?: string; ignore?: RegExp } = {}): void {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')} (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n').filter((l) => o.ignore === undefined || !o.ignore.test(l));
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, line);
  if (o.out !== undefined) assert.equal(existsSync(o.out), false, 'nothing written');
}
