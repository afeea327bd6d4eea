/**
 * The serve section of `tlcv bench`: the same model folder and photos served by `tlcv serve`
 * (micro-batching on, and off) and by a PyTorch peer (peers/serve_peer.py: ThreadingHTTPServer,
 * PIL decoding, torch.no_grad()), each loaded by closed-loop clients on loopback at every
 * client count; then onnxruntime-node against tlcv's libtorch per model. Each server runs in
 * its own process with the bench's thread count; the sides take turns, in an order that flips
 * every repetition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import type { BenchConfig } from './config.js';
import type { BenchReport } from './results.js';
import { runLoad } from './load-client.js';
import { WorkerProcess } from './protocol.js';
import { env, type WorkerEnv } from './workers.js';
import type { EnginesJob, EnginesResult, ServeFigures, ServeModel, ServeRow } from './serve-jobs.js';

const here = dirname(fileURLToPath(import.meta.url));

/** What the section needs of the harness's context. */
export interface ServeContext {
  cfg: BenchConfig;
  dir: string;
  log: (line: string) => void;
  report: BenchReport;
  workerEnv: WorkerEnv;
}

/** A file of this package (bin/tlcv.js, peers/serve_peer.py), found by walking up from here. */
export function packageFile(rel: string): string {
  let dir = here;
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = dirname(dir);
  }
  throw new TlcvError('FILE', `${rel} not found above ${here}: it ships with the package`);
}

interface ServerProcess {
  side: string;
  url: string;
  stop(): Promise<void>;
}

/** Starts a server that prints "listening on http://127.0.0.1:PORT" on stderr, and waits for that line. */
function startServer(side: string, command: string, args: string[], threads: number): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, { env: env(threads), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${side} did not start in 120 s: ${err.trim().slice(-400)}`)), 120_000);
    child.on('error', (e) => reject(new Error(`${side}: could not start ${command}: ${e.message}`)));
    child.on('close', (code) => reject(new Error(`${side} exited (${code}) before listening: ${err.trim().slice(-400)}`)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-4000);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          side,
          url: m[1]!,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

const label = (m: ServeModel): string => `${m.model} ${m.inputSize.join('x')}`;

async function serveModel(ctx: ServeContext, deploy: WorkerProcess, m: ServeModel, out: ServeFigures): Promise<void> {
  const s = ctx.cfg.serve!;
  const threads = ctx.cfg.threads;
  const prepared = await deploy.request<{ folder: string; photos: string[] }>({ kind: 'prepare', dir: ctx.dir, model: m.model, inputSize: m.inputSize, numClasses: 10, photos: s.photos, seed: ctx.cfg.seed });
  const images = prepared.photos.map((f) => new Uint8Array(readFileSync(f)));
  const tlcv = (maxBatch: number, maxWait: number): string[] => [packageFile('bin/tlcv.js'), 'serve', '--model', prepared.folder, '--port', '0', '--threads', String(threads), '--max-batch', String(maxBatch), '--max-wait-ms', String(maxWait), '--max-queue', '1024'];
  const servers: ServerProcess[] = [];
  try {
    servers.push(await startServer('tlcv batching', process.execPath, tlcv(s.batching.maxBatch, s.batching.maxWaitMs), threads));
    servers.push(await startServer('tlcv no batching', process.execPath, tlcv(1, 0), threads));
    servers.push(await startServer('PyTorch', ctx.workerEnv.python, ['-u', packageFile('peers/serve_peer.py'), prepared.folder, '--port', '0', '--threads', String(threads)], threads));
    const rows = new Map<string, ServeRow>();
    for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
      for (const clients of s.clients) {
        for (const server of rep % 2 === 0 ? servers : [...servers].reverse()) {
          const r = await runLoad(`${server.url}/predict`, images, { clients, warmupSeconds: s.warmupSeconds, seconds: s.seconds });
          const key = `${clients} ${server.side}`;
          const row = rows.get(key) ?? { model: m.model, inputSize: m.inputSize, clients, side: server.side, imagesPerSec: [], p50Ms: [], p99Ms: [], errors: 0 };
          row.imagesPerSec.push(r.imagesPerSec);
          row.p50Ms.push(r.p50Ms);
          row.p99Ms.push(r.p99Ms);
          row.errors += r.errors;
          rows.set(key, row);
          ctx.log(`  ${label(m)}, ${clients} clients, ${server.side}: ${r.imagesPerSec.toFixed(1)} images/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms${r.errors > 0 ? `, ${r.errors} errors` : ''}`);
        }
      }
    }
    out.rows.push(...[...rows.values()].sort((a, b) => a.clients - b.clients));
  } finally {
    await Promise.all(servers.map((sv) => sv.stop()));
  }
}

/** Runs the serve section into ctx.report.serve. */
export async function serveSection(ctx: ServeContext): Promise<void> {
  const s = ctx.cfg.serve!;
  const out: ServeFigures = { rows: [], engines: [], onnxruntimeVersion: null };
  ctx.report.serve = out;
  const deploy = new WorkerProcess('deploy', process.execPath, [join(here, 'deploy-worker.js')], env(ctx.cfg.threads), ctx.workerEnv.echo);
  try {
    for (const m of s.models) await serveModel(ctx, deploy, m, out);
    for (const m of s.engines?.models ?? []) {
      for (const batch of s.engines!.batches) {
        const job: EnginesJob = { ...s.engines!.timing, model: m.model, inputSize: m.inputSize, numClasses: 10, batch, reps: ctx.cfg.reps };
        const r = await deploy.request<EnginesResult>({ kind: 'engines', ...job });
        out.onnxruntimeVersion = r.onnxruntimeVersion;
        out.engines.push({ model: m.model, inputSize: m.inputSize, batch, tlcv: r.tlcv, onnxruntime: r.onnxruntime });
        ctx.log(`  engines ${label(m)} batch ${batch}: tlcv ${Math.max(...r.tlcv).toFixed(1)}, onnxruntime ${Math.max(...r.onnxruntime).toFixed(1)} images/s (best)`);
      }
    }
  } finally {
    await deploy.close();
  }
}
