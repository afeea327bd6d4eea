/**
 * The serve section of `tlcv bench`: the same model folder and photos served by `tlcv serve`
 * (micro-batching on, and off) and by a PyTorch peer (peers/serve_peer.py: ThreadingHTTPServer,
 * PIL decoding, torch.no_grad()), each loaded by closed-loop clients on loopback at every
 * client count; then onnxruntime-node against tlcv's libtorch per model. Each server runs in
 * its own process with the bench's thread count; the sides take turns, in an order that flips
 * every repetition.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import type { Shape3 } from '../core/jobs.js';
import { WorkerProcess } from '../core/protocol.js';
import { benchEnv, packageFile } from '../core/workers.js';
import { runLoad } from './load-client.js';
import { serveMarkdown, serveTargets } from './report.js';
import type { EnginesJob, EnginesResult, ServeBenchConfig, ServeFigures, ServeModel, ServeRow } from './types.js';

function config(preset: Preset): ServeBenchConfig {
  const quick = preset === 'quick';
  const engineModels: [string, Shape3][] = [
    ['seed-cnn', [1, 28, 28]],
    ['resnet18', [3, 224, 224]],
    ['mobilenet_v2_035', [3, 224, 224]],
    ...(quick ? [] : ([['resnet50', [3, 224, 224]], ['mobilenet_v2', [3, 224, 224]]] as [string, Shape3][])),
  ];
  return {
    models: [
      { model: 'resnet18', inputSize: [3, 224, 224] },
      { model: 'seed-cnn', inputSize: [1, 28, 28] },
    ],
    clients: [1, 8, 64],
    warmupSeconds: quick ? 1 : 2,
    seconds: quick ? 3 : 6,
    photos: 16,
    batching: { maxBatch: 16, maxWaitMs: 5 },
    engines: {
      models: engineModels.map(([model, inputSize]) => ({ model, inputSize })),
      batches: [1, 32],
      timing: quick ? { warmup: 1, iters: 2, minSeconds: 0.5, maxIters: 100 } : { warmup: 2, iters: 3, minSeconds: 2, maxIters: 500 },
    },
  };
}

interface ServerProcess {
  side: string;
  url: string;
  stop(): Promise<void>;
}

/** Starts a server that prints "listening on http://127.0.0.1:PORT" on stderr, and waits for that line. */
function startServer(side: string, command: string, args: string[], threads: number): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, { env: benchEnv(threads), stdio: ['ignore', 'ignore', 'pipe'] });
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

async function serveModel(ctx: BenchContext, s: ServeBenchConfig, deploy: WorkerProcess, m: ServeModel, out: ServeFigures): Promise<void> {
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
async function run(ctx: BenchContext, s: ServeBenchConfig): Promise<void> {
  const out: ServeFigures = { rows: [], engines: [], onnxruntimeVersion: null };
  ctx.report.serve = out;
  const deploy = new WorkerProcess('deploy', process.execPath, [fileURLToPath(new URL('./deploy-worker.js', import.meta.url))], benchEnv(ctx.cfg.threads), ctx.workerEnv.echo);
  try {
    for (const m of s.models) await serveModel(ctx, s, deploy, m, out);
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

export const section: BenchSection<'serve'> = {
  name: 'serve',
  describe: 'tlcv serve against a PyTorch HTTP peer; onnxruntime-node vs libtorch',
  processes: 'own',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown: serveMarkdown,
  targets: serveTargets,
};
