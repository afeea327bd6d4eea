/**
 * The memory section: a training run in one fresh process per side (peak RSS is a process's
 * whole life), after the long-lived workers have gone: peak RSS, and RSS growth from epoch 2 on.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import type { BenchReport, TargetCheck } from '../core/report.js';
import { syntheticImages, writeImageSet } from '../core/data-files.js';
import { mib, pct, ratio, ratio3, table } from '../core/format.js';
import { startPeer, startTlcv } from '../core/workers.js';
import { rssGrowth, type MemoryResult, type MemorySide } from './types.js';

function config(preset: Preset): SectionConfig<'memory'> {
  return { model: 'resnet18', inputSize: [3, 32, 32], images: preset === 'quick' ? 128 : 512, epochs: 20, batch: 64 };
}

async function run(ctx: BenchContext, m: SectionConfig<'memory'>): Promise<void> {
  const data = writeImageSet(ctx.dir, 'memory', syntheticImages(m.images, m.inputSize, 10, ctx.cfg.seed));
  const job = { kind: 'memory', model: m.model, inputSize: m.inputSize, numClasses: 10, images: data.images, labels: data.labels, epochs: m.epochs, batch: m.batch };
  const sides: MemorySide[] = [];
  // A fresh process per side: peak RSS is a process's whole life.
  for (const start of [startTlcv, startPeer]) {
    const w = start(ctx.workerEnv, start === startTlcv ? 'tlcv-memory' : 'pytorch-memory');
    try {
      const r = await w.request<MemoryResult>(job);
      sides.push({ ...r, growth: rssGrowth(r.rssPerEpoch) });
    } finally {
      await w.close();
    }
  }
  ctx.report.memory = { tlcv: sides[0]!, peer: sides[1]!, peakRatio: sides[0]!.peakRss / sides[1]!.peakRss, model: `${m.model} ${m.inputSize.join('x')}`, epochs: m.epochs };
}

function markdown(r: BenchReport): string[] {
  const mm = r.memory;
  if (!mm) return [];
  return [
    `Memory of a ${mm.epochs}-epoch training run (${mm.model}), one fresh process per side\n\n` +
      table(['', 'tlcv (default plan)', 'PyTorch (fp32)', 'tlcv / PyTorch'], [
        ['peak RSS', mib(mm.tlcv.peakRss), mib(mm.peer.peakRss), ratio(mm.peakRatio)],
        [`RSS growth, epoch 2 to ${mm.epochs}`, pct(mm.tlcv.growth), pct(mm.peer.growth), ''],
      ]),
  ];
}

/** Issue 7's target 5. */
function targets(r: BenchReport): TargetCheck[] {
  if (!r.memory) return [];
  const g = r.memory.tlcv.growth;
  return [
    { name: '5. peak RSS of a training run, tlcv / PyTorch', target: '<= 1.2x', measured: ratio3(r.memory.peakRatio), met: r.memory.peakRatio <= 1.2 },
    { name: `5. tlcv RSS growth, epoch 2 to ${r.memory.epochs}`, target: '< 5%', measured: `${(g * 100).toFixed(2)}%`, met: g < 0.05 },
  ];
}

export const section: BenchSection<'memory'> = {
  name: 'memory',
  describe: 'peak RSS and RSS growth of a training run, a fresh process per side',
  processes: 'own',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
  targets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
