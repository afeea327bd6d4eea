/**
 * `tlcv bench`: tlcv and the PyTorch peer side by side on the same machine, data and thread
 * count. This process only prepares data files and hands out jobs; the measuring happens in
 * one worker process per side, and the two sides take turns so that load from elsewhere on a
 * shared machine falls on both. Sections fail alone: a missing peer or TF.js leaves an error
 * in the report and the other sections stand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import type { BenchConfig } from './config.js';
import { TLCV_SETTINGS, PEER_SETTINGS } from './config.js';
import type { BenchContext } from './context.js';
import { startPeer, startTfjs, startTlcv, type WorkerEnv } from './workers.js';
import { syntheticImages, writeImageSet } from './data-files.js';
import { figure, rssGrowth, throughputRatios, type BenchReport, type Figure, type GemmFigures, type MemorySide, type ThroughputRow } from './results.js';
import { checkTargets } from './targets.js';
import { precisionSection, transferSection } from './digits-sections.js';
import { optimizerSection, rooflineSection } from './speed-sections.js';
import { dataSection } from './data-section.js';
import { cpuModelName } from './machine.js';
import { runDistributedBench } from './distributed.js';
import { serveSection } from './serve-section.js';
import { fewshotSection } from './fewshot-section.js';
import { adaptSection } from './adapt-section.js';
import type { FlopsResult, GemmResult, HelloResult, MemoryResult, ThroughputResult } from './jobs.js';

export interface BenchOptions {
  config: BenchConfig;
  /** The command line shown in the report. */
  command?: string;
  /** Python with torch and torchvision (Debian's python3-torch). */
  python?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Echo the workers' stderr through log. */
  verbose?: boolean;
}

type Ctx = BenchContext;

async function section(ctx: Ctx, name: string, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  ctx.log(`${name}...`);
  try {
    await fn();
    ctx.log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } catch (e) {
    ctx.report.errors[name] = e instanceof Error ? e.message : String(e);
    ctx.log(`${name} failed: ${ctx.report.errors[name]}`);
  }
}

const num = (f: Figure | undefined): string => (f === undefined ? 'n/a' : f.median.toFixed(1));

async function throughputSection(ctx: Ctx): Promise<void> {
  for (const row of ctx.cfg.throughput) {
    const data = writeImageSet(ctx.dir, `synthetic-${row.inputSize.join('x')}-${row.batch}`, syntheticImages(row.batch, row.inputSize, row.numClasses, ctx.cfg.seed));
    let flops: number | null = null;
    try {
      flops = (await ctx.peer.request<FlopsResult>({ kind: 'flops', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses })).forwardFlopsPerImage;
    } catch {
      flops = null;
    }
    for (const mode of ['train', 'infer'] as const) {
      const samples = { tlcv: new Map<string, number[]>(), peer: new Map<string, number[]>() };
      let plan = '';
      const errors: Record<string, string> = {};
      // tlcv and PyTorch settings alternate, and the order flips every repetition.
      const order = [
        ...TLCV_SETTINGS.map((s, i) => ({ side: 'tlcv' as const, s, at: 2 * i })),
        ...PEER_SETTINGS.map((s, i) => ({ side: 'peer' as const, s, at: 2 * i + 1 })),
      ].sort((a, b) => a.at - b.at);
      for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
        for (const { side, s } of rep % 2 === 0 ? order : [...order].reverse()) {
          const key = `${side === 'tlcv' ? 'tlcv' : 'PyTorch'} ${s.name}`;
          if (errors[key] !== undefined) continue;
          const job = { kind: 'throughput', ...s, ...row.timing, model: row.model, inputSize: row.inputSize, numClasses: row.numClasses, batch: row.batch, mode, images: data.images, labels: data.labels };
          try {
            const r = await (side === 'tlcv' ? ctx.tlcv : ctx.peer).request<ThroughputResult>(job);
            const list = samples[side].get(s.name) ?? [];
            list.push(r.images / (ctx.cfg.cpuTime === true ? r.cpuSeconds : r.seconds));
            samples[side].set(s.name, list);
            if (side === 'tlcv' && s.name === 'auto' && r.plan) plan = r.plan;
          } catch (e) {
            // A setting the library cannot run (PyTorch 1.13 has no bf16 hardtanh backward) is a finding, not a crash.
            errors[key] = e instanceof Error ? e.message : String(e);
          }
        }
      }
      const tlcv = Object.fromEntries([...samples.tlcv].map(([k, v]) => [k, figure(v)]));
      const peer = Object.fromEntries([...samples.peer].map(([k, v]) => [k, figure(v)]));
      const out: ThroughputRow = { model: row.model, inputSize: row.inputSize, batch: row.batch, mode, tlcv, peer, plan, forwardFlopsPerImage: flops, ratios: throughputRatios(tlcv, peer), errors };
      ctx.report.throughput.push(out);
      const best = out.ratios.peerBestSetting;
      ctx.log(`  ${row.model} ${row.inputSize.join('x')} ${mode}: tlcv default ${num(tlcv.auto)} img/s, PyTorch fp32 ${num(peer.fp32)}, best ${best} ${num(peer[best])}`);
      for (const [k, v] of Object.entries(errors)) ctx.log(`    ${k} failed: ${v}`);
    }
  }
}

async function gemmSection(ctx: Ctx): Promise<void> {
  const g = ctx.cfg.gemm!;
  const out: GemmFigures = { n: g.n, tlcv: {}, peer: {} };
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const t: number[] = [];
    const p: number[] = [];
    // A peak: the best of several alternating tries, since load elsewhere only lowers it.
    for (let rep = 0; rep < Math.max(ctx.cfg.reps, 3); rep += 1) {
      const job = { kind: 'gemm', n: g.n, dtype, ...g.timing };
      const a = await ctx.tlcv.request<GemmResult>(job);
      const b = await ctx.peer.request<GemmResult>(job);
      t.push(a.flop / a.seconds / 1e9);
      p.push(b.flop / b.seconds / 1e9);
    }
    out.tlcv[dtype] = figure(t);
    out.peer[dtype] = figure(p);
  }
  ctx.report.gemm = out;
}

async function memorySection(ctx: Ctx): Promise<void> {
  const m = ctx.cfg.memory!;
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

async function tfjsSection(ctx: Ctx): Promise<void> {
  const t = ctx.cfg.tfjs!;
  const w = startTfjs(ctx.workerEnv);
  try {
    const hello = await w.request<HelloResult>({ kind: 'hello' });
    const r = await w.request<{ images: number; seconds: number }>({ kind: 'tfjs', inputSize: [1, 28, 28], ...t });
    const seedTrain = ctx.report.throughput.find((row) => row.model === 'seed-cnn' && row.mode === 'train');
    ctx.report.tfjs = { batch: t.batch, imagesPerSec: r.images / r.seconds, version: `${hello.tfjs ?? '?'} (${hello.backend ?? '?'} backend)`, tlcvAutoImagesPerSec: seedTrain?.tlcv.auto?.median ?? null };
  } finally {
    await w.close();
  }
}

function emptyReport(o: BenchOptions): BenchReport {
  return {
    command: o.command ?? 'tlcv bench',
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: { cpu: cpuModelName(), cores: cpus().length, threads: o.config.threads, loadAverageStart: loadavg(), loadAverageEnd: [], node: process.version, torch: null, ompWaitPolicy: null, tlcvAutoPlan: null },
    config: o.config,
    throughput: [],
    gemm: null,
    transfer: [],
    precision: null,
    memory: null,
    tfjs: null,
    data: null,
    serve: null,
    fewshot: null,
    adapt: null,
    targets: [],
    errors: {},
  };
}

/**
 * Runs the bench and returns the report (the CLI prints it and writes bench.json).
 *
 * @example
 * const report = await runBench({ config: presetConfig('quick', 2), log: console.log });
 * console.log(report.throughput[0]!.ratios.autoVsPeerDefault);
 */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const workerEnv: WorkerEnv = { threads: o.config.threads, python: o.python ?? process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', echo: o.verbose ? log : null };
  const report = emptyReport(o);
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-bench-'));
  const ctx: Ctx = { cfg: o.config, dir, tlcv: startTlcv(workerEnv), peer: startPeer(workerEnv), log, report, workerEnv };
  try {
    const th = await ctx.tlcv.request<HelloResult>({ kind: 'hello' });
    const ph = await ctx.peer.request<HelloResult>({ kind: 'hello' }).catch((e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      throw new TlcvError('ARGUMENT', `the PyTorch peer (${workerEnv.python}) did not start: ${why}. Install python3-torch and python3-torchvision (Debian), or pass --python with a Python that has torch and torchvision`);
    });
    if (th.threads !== ph.threads) throw new Error(`thread counts differ: tlcv ${th.threads}, PyTorch ${ph.threads}`);
    report.machine.torch = `${ph.torch ?? '?'} (torchvision ${ph.torchvision ?? '?'})`;
    report.machine.ompWaitPolicy = `tlcv ${th.ompWaitPolicy ?? 'unset'}, PyTorch ${ph.ompWaitPolicy ?? 'unset'}`;
    report.machine.tlcvAutoPlan = th.plan ?? null;
    if (o.config.throughput.length > 0) await section(ctx, 'throughput', () => throughputSection(ctx));
    if (o.config.gemm) await section(ctx, 'gemm', () => gemmSection(ctx));
    // Issue 16's figures go with the throughput rows (after gemm, whose peaks the roofline reuses).
    if (o.config.optimizer) await section(ctx, 'optimizer', () => optimizerSection(ctx.cfg, ctx.tlcv, ctx.peer, ctx.report));
    if (o.config.roofline) await section(ctx, 'roofline', () => rooflineSection(ctx.cfg, ctx.tlcv, ctx.peer, ctx.report, ctx.dir));
    if (o.config.transfer) await section(ctx, 'transfer', () => transferSection(ctx));
    if (o.config.precision) await section(ctx, 'precision', () => precisionSection(ctx));
  } finally {
    await Promise.all([ctx.tlcv.close(), ctx.peer.close()]);
  }
  try {
    // Last, with the long-lived workers gone: fresh processes, a quieter machine.
    if (o.config.memory) await section(ctx, 'memory', () => memorySection(ctx));
    if (o.config.tfjs) await section(ctx, 'tfjs', () => tfjsSection(ctx));
    const dist = o.config.distributed;
    if (dist) await section(ctx, 'distributed', async () => void (report.distributed = await runDistributedBench(dist, { python: workerEnv.python, log })));
    if (o.config.data) await section(ctx, 'data', () => dataSection(ctx));
    if (o.config.serve) await section(ctx, 'serve', () => serveSection(ctx));
    // tlcv commands in processes of their own, as a user runs them.
    const { fewshot, adapt } = o.config;
    if (fewshot) await section(ctx, 'fewshot', () => fewshotSection(ctx, fewshot));
    if (adapt) await section(ctx, 'adapt', () => adaptSection(ctx, adapt));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report.machine.loadAverageEnd = loadavg();
  report.seconds = (performance.now() - t0) / 1000;
  report.targets = checkTargets(report);
  return report;
}

export type { BenchContext };
