/**
 * The TF.js section: the seed CNN's training step in pure-JS TensorFlow.js (its cpu backend, one
 * thread), in a worker process of its own (worker.ts), against tlcv's default plan from the
 * throughput rows when they ran.
 */
import { fileURLToPath } from 'node:url';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import type { BenchReport } from '../core/report.js';
import { num, ratio, table } from '../core/format.js';
import type { HelloResult } from '../core/jobs.js';
import { WorkerProcess } from '../core/protocol.js';
import { benchEnv } from '../core/workers.js';

function config(preset: Preset): SectionConfig<'tfjs'> {
  // Pure-JS TF.js trains this CNN at well under one image per second here: a few images only.
  return preset === 'quick' ? { batch: 1, warmup: 0, iters: 1 } : { batch: 2, warmup: 1, iters: 2 };
}

async function run(ctx: BenchContext, t: SectionConfig<'tfjs'>): Promise<void> {
  const w = new WorkerProcess('tfjs', process.execPath, [fileURLToPath(new URL('./worker.js', import.meta.url))], benchEnv(ctx.workerEnv.threads), ctx.workerEnv.echo);
  try {
    const hello = await w.request<HelloResult>({ kind: 'hello' });
    const r = await w.request<{ images: number; seconds: number }>({ kind: 'tfjs', inputSize: [1, 28, 28], ...t });
    const seedTrain = ctx.report.throughput.find((row) => row.model === 'seed-cnn' && row.mode === 'train');
    ctx.report.tfjs = { batch: t.batch, imagesPerSec: r.images / r.seconds, version: `${hello.tfjs ?? '?'} (${hello.backend ?? '?'} backend)`, tlcvAutoImagesPerSec: seedTrain?.tlcv.auto?.median ?? null };
  } finally {
    await w.close();
  }
}

function markdown(r: BenchReport): string[] {
  const t = r.tfjs;
  if (!t) return [];
  return [
    `Pure-JS TensorFlow.js ${t.version}, seed-cnn training step\n\n` +
      table(['', 'images/s', 'tlcv default / TF.js'], [[`TF.js, batch ${t.batch}, 1 thread`, num(t.imagesPerSec), t.tlcvAutoImagesPerSec === null ? 'n/a' : ratio(t.tlcvAutoImagesPerSec / t.imagesPerSec)]]),
  ];
}

export const section: BenchSection<'tfjs'> = {
  name: 'tfjs',
  describe: 'pure-JS TensorFlow.js training the seed CNN',
  processes: 'own',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
};
