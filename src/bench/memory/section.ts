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
import { DEFAULT_MAX_MEMORY } from '../../train/index.js';
import { rssGrowth, type MemoryAtBudget, type MemoryJob, type MemoryResult, type MemorySide } from './types.js';

function config(preset: Preset): SectionConfig<'memory'> {
  const quick = preset === 'quick';
  return {
    model: 'resnet18',
    inputSize: [3, 32, 32],
    images: quick ? 128 : 512,
    epochs: 20,
    batch: 64,
    // 1,024 images: at most an eighth is 128, so the memory budget, not the data, sets the batch in the full run.
    atBudget: { model: 'resnet18', inputSize: [3, 224, 224], images: quick ? 128 : 1024, maxMemory: DEFAULT_MAX_MEMORY },
  };
}

/** One training run per side in a fresh process each (peak RSS is a process's whole life), tlcv's first. */
async function runSides(ctx: BenchContext, job: MemoryJob, label: string): Promise<[MemoryResult, MemoryResult]> {
  const w = startTlcv(ctx.workerEnv, `tlcv-${label}`);
  let mine: MemoryResult;
  try {
    mine = await w.request<MemoryResult>({ ...job });
  } finally {
    await w.close();
  }
  const p = startPeer(ctx.workerEnv, `pytorch-${label}`);
  try {
    // PyTorch trains at the batch tlcv trained at.
    return [mine, await p.request<MemoryResult>({ ...job, batch: mine.batch })];
  } finally {
    await p.close();
  }
}

async function run(ctx: BenchContext, m: SectionConfig<'memory'>): Promise<void> {
  const data = writeImageSet(ctx.dir, 'memory', syntheticImages(m.images, m.inputSize, 10, ctx.cfg.seed));
  const job: MemoryJob = { kind: 'memory', model: m.model, inputSize: m.inputSize, numClasses: 10, images: data.images, labels: data.labels, epochs: m.epochs, batch: m.batch };
  const sides: MemorySide[] = (await runSides(ctx, job, 'memory')).map((r) => ({ peakRss: r.peakRss, rssPerEpoch: r.rssPerEpoch, growth: rssGrowth(r.rssPerEpoch) }));
  ctx.report.memory = { tlcv: sides[0]!, peer: sides[1]!, peakRatio: sides[0]!.peakRss / sides[1]!.peakRss, model: `${m.model} ${m.inputSize.join('x')}`, epochs: m.epochs };
  const b = m.atBudget;
  if (b) {
    const photos = writeImageSet(ctx.dir, 'memory-224', syntheticImages(b.images, b.inputSize, 10, ctx.cfg.seed));
    const [mine, peer] = await runSides(ctx, { kind: 'memory', model: b.model, inputSize: b.inputSize, numClasses: 10, images: photos.images, labels: photos.labels, epochs: 1, batch: 'auto', maxMemory: b.maxMemory }, 'memory-224');
    ctx.report.memory.atBudget = { model: `${b.model} ${b.inputSize.join('x')}`, maxMemory: b.maxMemory, batch: mine.batch, tlcvPeak: mine.peakRss, peerPeak: peer.peakRss, peakRatio: mine.peakRss / peer.peakRss };
  }
}

function markdown(r: BenchReport): string[] {
  const mm = r.memory;
  if (!mm) return [];
  return [
    `Memory of a ${mm.epochs}-epoch training run (${mm.model}), one fresh process per side\n\n` +
      table(['', 'tlcv (default plan)', 'PyTorch (fp32)', 'tlcv / PyTorch'], [
        ['peak RSS', mib(mm.tlcv.peakRss), mib(mm.peer.peakRss), ratio(mm.peakRatio)],
        [`RSS growth, epoch 2 to ${mm.epochs}`, pct(mm.tlcv.growth), pct(mm.peer.growth), ''],
        ...(mm.atBudget ? [[`peak RSS, ${mm.atBudget.model} at the batch tlcv chose without --batch-size (${mm.atBudget.batch}, --max-memory ${mib(mm.atBudget.maxMemory)})`, mib(mm.atBudget.tlcvPeak), mib(mm.atBudget.peerPeak), ratio(mm.atBudget.peakRatio)]] : []),
      ]),
  ];
}

/** Issue 22: a run without --batch-size stays within --max-memory. */
function budgetTarget(b: MemoryAtBudget): TargetCheck {
  return { name: `22. peak RSS of ${b.model} training at the batch tlcv chose (${b.batch})`, target: `<= --max-memory ${mib(b.maxMemory)}`, measured: `${mib(b.tlcvPeak)} (PyTorch at the same batch: ${mib(b.peerPeak)})`, met: b.tlcvPeak <= b.maxMemory };
}

/** Issue 7's target 5 (and 22's). */
function targets(r: BenchReport): TargetCheck[] {
  if (!r.memory) return [];
  const g = r.memory.tlcv.growth;
  return [
    { name: '5. peak RSS of a training run, tlcv / PyTorch', target: '<= 1.2x', measured: ratio3(r.memory.peakRatio), met: r.memory.peakRatio <= 1.2 },
    { name: `5. tlcv RSS growth, epoch 2 to ${r.memory.epochs}`, target: '< 5%', measured: `${(g * 100).toFixed(2)}%`, met: g < 0.05 },
    ...(r.memory.atBudget ? [budgetTarget(r.memory.atBudget)] : []),
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
