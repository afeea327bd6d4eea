/**
 * What `tlcv bench` measures and how long it spends: the full run, `--quick` (about two minutes
 * on 2 cores), `--only` a list of sections, and whatever a caller builds (tests run tiny ones).
 * Each section gives its own settings (src/bench/registry.ts); this file only picks them.
 */
import { TlcvError } from '../../errors.js';
import { SECTIONS } from '../registry.js';
import type { BenchConfig, Preset } from './config.js';

export interface BenchChoice {
  preset: Preset;
  threads: number;
  /** Interleaved repetitions of each figure (default: 1 with --quick, else 3). */
  reps?: number;
  cpuTime?: boolean;
  /** Sections to run, by name; without it, the sections in the presets. */
  only?: string[];
}

/** A section that does not run: an empty list where its settings are a list (the throughput rows), else null. */
const off = (settings: unknown): [] | null => (Array.isArray(settings) ? [] : null);

/**
 * The settings of a run as the command line chooses it; an unknown section in `only` is a user error.
 *
 * @example
 * const cfg = benchConfig({ preset: 'quick', threads: 2, only: ['gemm', 'serve'] });
 */
export function benchConfig(o: BenchChoice): BenchConfig {
  const names = SECTIONS.map((s) => s.name as string);
  const unknown = (o.only ?? []).filter((s) => !names.includes(s));
  if (unknown.length > 0) throw new TlcvError('ARGUMENT', `--only: expected sections from ${names.join(',')}, got ${JSON.stringify(unknown.join(','))}`);
  const sections = SECTIONS.map((s) => {
    const settings = s.config(o.preset);
    const on = o.only === undefined ? s.inPresets : o.only.includes(s.name);
    if (!on) return [s.name, off(settings)];
    return [s.name, o.reps !== undefined && s.withReps ? s.withReps(settings, o.reps) : settings];
  });
  return {
    threads: o.threads,
    reps: o.reps ?? (o.preset === 'quick' ? 1 : 3),
    seed: 0,
    ...Object.fromEntries(sections),
    ...(o.cpuTime === true ? { cpuTime: true } : {}),
  } as BenchConfig;
}

/**
 * `tlcv bench` (full) or `--quick`: every section in the presets, the others off.
 *
 * @example
 * const cfg = { ...presetConfig('quick', 2), throughput: [] }; // quick, without the throughput rows
 */
export function presetConfig(preset: Preset, threads: number): BenchConfig {
  return benchConfig({ preset, threads });
}
