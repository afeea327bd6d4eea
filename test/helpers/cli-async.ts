/** The real `tlcv` binary as a child process that a test can watch, poll and kill. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface RunningCli {
  child: ChildProcess;
  /** Resolves when the child has exited: its code, or the signal that ended it. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startCli(args: string[]): RunningCli {
  const child = spawn(process.execPath, [resolve('bin', 'tlcv.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((ok) => {
    child.on('close', (code, signal) => ok({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Calls `check` every `everyMs` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(check: () => T | undefined, o: { everyMs?: number; timeoutMs?: number; what: string }): Promise<T> {
  const end = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${o.what}`);
    await new Promise((r) => setTimeout(r, o.everyMs ?? 10));
  }
}
