/** `tlcv serve` as users run it, for the serve tests: the real binary on a free loopback port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import assert from 'node:assert/strict';
import { pollUntil } from './cli-async.js';

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The server's resident memory now, from /proc (not from the server's own report). */
  rssBytes(): number;
  stop(): void;
}

/**
 * Starts `tlcv serve --model folder --port 0 ...extra` and waits until it listens.
 *
 * @example
 * const s = await startServe(folder, ['--max-batch', '8']);
 */
export async function startServe(folder: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [resolve('bin', 'tlcv.js'), 'serve', '--model', folder, '--port', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on('close', (code, signal) => ok({ code, signal })));
  const url = await pollUntil(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1] ?? (child.exitCode !== null ? `exit ${child.exitCode}` : undefined), { what: 'tlcv serve to listen', everyMs: 50 });
  assert.match(url, /^http:/, err);
  return {
    url,
    child,
    stderr: () => err,
    exited,
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** GET /healthz's answer. */
export async function health(url: string): Promise<{ status: string; inFlight: number; batches: number; memory: { rssBytes: number; cpuCacheBytes: number; releases: number } }> {
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  return (await res.json()) as { status: string; inFlight: number; batches: number; memory: { rssBytes: number; cpuCacheBytes: number; releases: number } };
}
