/**
 * One interface for every section of `tlcv bench` (src/bench/registry.ts lists them): the harness
 * calls each the same way, and `--only`, the presets, the report and the targets read the same
 * fields. A section's folder holds its config and figure types, its jobs and workers, and its part
 * of the report.
 */
import type { BenchConfig, Preset } from './config.js';
import type { WorkerProcess } from './protocol.js';
import type { BenchReport, TargetCheck } from './report.js';
import type { WorkerEnv } from './workers.js';

/** The sections' names: the keys that a section adds to both BenchConfig and BenchReport. */
export type SectionName = keyof BenchConfig & keyof BenchReport;

/** A section's settings when it runs. */
export type SectionConfig<K extends SectionName> = NonNullable<BenchConfig[K]>;

/** What a section's run gets besides its own settings. */
export interface BenchContext {
  cfg: BenchConfig;
  /** A scratch folder of this run, removed at its end. */
  dir: string;
  /**
   * The long-lived tlcv and PyTorch workers (src/bench/core/worker.ts, peers/bench.py), for
   * sections with `processes: 'shared'`; closed by the time the `'own'` sections run.
   */
  tlcv: WorkerProcess;
  peer: WorkerProcess;
  log: (line: string) => void;
  /** The report the section fills under its name (and reads, for figures of sections before it). */
  report: BenchReport;
  /** What fresh workers are started with (startTlcv, startPeer). */
  workerEnv: WorkerEnv;
}

export interface BenchSection<K extends SectionName = SectionName> {
  /** Its `--only` name, and its key in BenchConfig, BenchReport and bench.json. */
  readonly name: K;
  /** One line for `tlcv bench --help`. */
  readonly describe: string;
  /**
   * 'shared': runs first, on the long-lived workers (ctx.tlcv, ctx.peer); 'own': runs after they
   * have closed, in processes of its own (fresh workers, servers, tlcv commands).
   */
  readonly processes: 'shared' | 'own';
  /** Whether `tlcv bench` and `--quick` run it; false: only when `--only` names it. */
  readonly inPresets: boolean;
  /** Its settings under a preset. */
  config(preset: Preset): SectionConfig<K>;
  /** Its settings with `--reps N`, where the section keeps a repetition count of its own. */
  withReps?(config: SectionConfig<K>, reps: number): SectionConfig<K>;
  /** What the report holds under its name before it runs (null, or an empty list). */
  readonly empty: BenchReport[K];
  /**
   * Measures, and writes its figures into ctx.report[name] (as it goes: a failure keeps what was
   * measured before it, and becomes the section's line under "Sections that failed").
   */
  run(ctx: BenchContext, config: SectionConfig<K>): Promise<void>;
  /** Its parts of the markdown report, from whatever the report holds (none where it did not run). */
  markdown?(r: BenchReport): string[];
  /** Its targets, measured against the report's figures (none where its figures are missing). */
  targets?(r: BenchReport): TargetCheck[];
  /**
   * URL of a module whose `jobs` (JobHandlers) every tlcv worker serves, for the section's
   * tlcv-side work: `new URL('./tlcv-jobs.js', import.meta.url).href`.
   */
  readonly tlcvJobs?: string;
}

/** A section is off when its settings are null, or an empty list (the throughput rows). */
export function isOn(config: unknown): boolean {
  return Array.isArray(config) ? config.length > 0 : config !== null && config !== undefined;
}
