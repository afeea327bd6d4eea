/**
 * How the harness talks to its workers (a tlcv process, the PyTorch peer, the TF.js process):
 * one JSON job per line on stdin, one JSON answer per line on stdout. Each side runs in its
 * own process so that RSS and thread pools are its own; answers carry a marker so that a
 * library printing to stdout (TF.js greets you there) cannot break the stream.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export const ANSWER_MARK = '@@tlcv-bench ';

/** A job: its kind and its fields (spread an interface-typed job: `request({ ...job })`). */
export type Job = { kind: string; [field: string]: unknown };
/** A worker's handlers by job kind (a section's tlcv-jobs.ts exports its own as `jobs`). */
export type JobHandlers = Record<string, (job: Job) => unknown>;
type Answer = { ok: true; result: unknown } | { ok: false; error: string };

/** A worker process that answers jobs in order. */
export class WorkerProcess {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void; kind: string }[] = [];
  #stderr = '';
  #exited: string | null = null;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    echo: ((line: string) => void) | null = null,
  ) {
    this.#proc = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.#proc.stdout }).on('line', (line) => this.#onLine(line));
    this.#proc.stderr.setEncoding('utf8');
    this.#proc.stderr.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
      if (echo) for (const l of chunk.split('\n')) if (l.trim()) echo(`[${label}] ${l}`);
    });
    this.#proc.on('error', (e) => this.#fail(`could not start ${command}: ${e.message}`));
    this.#proc.on('exit', (code, signal) => this.#fail(`exited (${signal ?? code}) ${this.#stderr.trim().split('\n').slice(-5).join(' | ')}`));
  }

  #onLine(line: string): void {
    if (!line.startsWith(ANSWER_MARK)) return;
    const w = this.#waiting.shift();
    if (w === undefined) return;
    const a = JSON.parse(line.slice(ANSWER_MARK.length)) as Answer;
    if (a.ok) w.resolve(a.result);
    else w.reject(new Error(`${this.label} ${w.kind}: ${a.error}`));
  }

  #fail(why: string): void {
    this.#exited ??= why;
    for (const w of this.#waiting.splice(0)) w.reject(new Error(`${this.label} ${why}`));
  }

  /** Sends a job; resolves with its result, rejects with the worker's error. */
  request<T>(job: Job): Promise<T> {
    if (this.#exited !== null) return Promise.reject(new Error(`${this.label} ${this.#exited}`));
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ resolve: resolve as (v: unknown) => void, reject, kind: job.kind });
      this.#proc.stdin.write(`${JSON.stringify(job)}\n`);
    });
  }

  /** Ends stdin and waits for the process to leave. */
  async close(): Promise<void> {
    if (this.#exited !== null) return;
    const done = new Promise<void>((resolve) => this.#proc.once('exit', () => resolve()));
    this.#proc.stdin.end();
    await done;
  }
}

/**
 * The worker side: answers each stdin line with its handler's result. Handlers run one at a
 * time, in order, so timings never overlap.
 */
export async function serveJobs(handlers: JobHandlers): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let answer: Answer;
    try {
      const job = JSON.parse(line) as Job;
      const handler = handlers[job.kind];
      if (handler === undefined) throw new Error(`unknown job kind ${JSON.stringify(job.kind)}`);
      answer = { ok: true, result: await handler(job) };
    } catch (e) {
      answer = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    process.stdout.write(`${ANSWER_MARK}${JSON.stringify(answer)}\n`);
  }
}
