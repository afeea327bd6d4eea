/**
 * `tlcv bench`: tlcv and the PyTorch peer side by side on the same machine, data and thread
 * count. This process only prepares data files and hands out jobs; the measuring happens in
 * one worker process per side, and the two sides take turns so that load from elsewhere on a
 * shared machine falls on both. Sections (src/bench/registry.ts) fail alone: a missing peer or
 * TF.js leaves an error in the report and the other sections stand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../../errors.js';
import { SECTIONS } from '../registry.js';
import type { BenchConfig } from './config.js';
import type { HelloResult } from './jobs.js';
import { cpuModelName } from './machine.js';
import type { BenchReport } from './report.js';
import { isOn, type BenchContext, type BenchSection } from './section.js';
import { checkTargets } from './targets.js';
import { startPeer, startTlcv, type WorkerEnv } from './workers.js';

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

/** Runs one section; its failure becomes its line under errors, and the bench goes on. */
async function runSection(ctx: BenchContext, s: BenchSection): Promise<void> {
  const t0 = performance.now();
  ctx.log(`${s.name}...`);
  try {
    await s.run(ctx, ctx.cfg[s.name]!);
    ctx.log(`${s.name} done in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } catch (e) {
    ctx.report.errors[s.name] = e instanceof Error ? e.message : String(e);
    ctx.log(`${s.name} failed: ${ctx.report.errors[s.name]}`);
  }
}

function emptyReport(o: BenchOptions): BenchReport {
  const report = {
    command: o.command ?? 'tlcv bench',
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: { cpu: cpuModelName(), cores: cpus().length, threads: o.config.threads, loadAverageStart: loadavg(), loadAverageEnd: [], node: process.version, torch: null, ompWaitPolicy: null, tlcvAutoPlan: null },
    config: o.config,
    ...Object.fromEntries(SECTIONS.map((s) => [s.name, s.empty])),
    targets: [],
    errors: {},
  };
  // Each section's key holds its `empty` value: the shape the sections declare for BenchReport.
  return report as unknown as BenchReport;
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
  const jobModules = SECTIONS.flatMap((s) => (s.tlcvJobs === undefined ? [] : [s.tlcvJobs]));
  const workerEnv: WorkerEnv = { threads: o.config.threads, python: o.python ?? process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', echo: o.verbose ? log : null, jobModules };
  const report = emptyReport(o);
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-bench-'));
  const ctx: BenchContext = { cfg: o.config, dir, tlcv: startTlcv(workerEnv), peer: startPeer(workerEnv), log, report, workerEnv };
  const on = SECTIONS.filter((s) => isOn(o.config[s.name]));
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
    for (const s of on.filter((x) => x.processes === 'shared')) await runSection(ctx, s);
  } finally {
    await Promise.all([ctx.tlcv.close(), ctx.peer.close()]);
  }
  try {
    // Then, with the long-lived workers gone: fresh processes, a quieter machine.
    for (const s of on.filter((x) => x.processes === 'own')) await runSection(ctx, s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report.machine.loadAverageEnd = loadavg();
  report.seconds = (performance.now() - t0) / 1000;
  report.targets = checkTargets(report);
  return report;
}
