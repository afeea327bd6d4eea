/**
 * The sections of `tlcv bench`, one line each, in the order the report shows them. The harness,
 * `--only`, the presets, the markdown report and the targets all read this list; nothing else
 * names a section.
 *
 * Order: the report prints the sections in this order, and `--help` lists them in it. The
 * harness starts the long-lived tlcv and PyTorch workers (always: the report's machine line and
 * the thread check need both, and a missing PyTorch is a user error before anything runs), runs
 * the `processes: 'shared'` sections on them in this order, closes them, then runs the `'own'`
 * sections in this order. A section may read the figures of those that ran before it: every
 * shared one's, and an own one's above it (tfjs reads the throughput rows; roofline reuses the
 * gemm peaks).
 *
 * Adding a section, e.g. `doctor`, touches one folder and this file:
 * 1. `src/bench/doctor/types.ts`: its settings and figures, and their keys, added to the two
 *    shared interfaces by declaration merging (optional keys, so configs and reports written
 *    before it still type-check):
 *    ```ts
 *    declare module '../core/config.js' { interface BenchConfig { doctor?: DoctorConfig | null } }
 *    declare module '../core/report.js' { interface BenchReport { doctor?: DoctorFigures | null } }
 *    ```
 * 2. `src/bench/doctor/section.ts`: `export const section: BenchSection<'doctor'> = { name:
 *    'doctor', describe, processes, inPresets, config, empty: null, run, markdown, targets }`
 *    (src/bench/core/section.ts says what each field means). `run(ctx, config)` writes
 *    `ctx.report.doctor` as it measures; `markdown(r)` and `targets(r)` return nothing when
 *    `r.doctor` is missing.
 * 3. Work that must happen in a tlcv worker (its own libtorch threads and memory, as the other
 *    side's work happens in the PyTorch peer): `src/bench/doctor/tlcv-jobs.ts` exporting
 *    `jobs: JobHandlers` keyed by job kind, named in the section as
 *    `tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href`; every tlcv worker serves it,
 *    and `ctx.tlcv.request({ kind, ... })` (shared) or `startTlcv(ctx.workerEnv)` (own) reaches
 *    it. Workers of other kinds (a server, a TF.js process, `tlcv` commands) start from the
 *    section's folder, as serve, tfjs and fewshot do.
 * 4. One line below, `(await import('./doctor/section.js')).section`, where its part of the
 *    report should appear.
 * A PyTorch side goes in `peers/` (a job kind in peers/bench.py, or a script of its own).
 * A new row of an existing section (a model in throughput) is a change inside that section's
 * folder only (its `config`).
 *
 * @example
 * SECTIONS.map((s) => s.name); // what `tlcv bench --only` accepts
 */
import type { BenchSection } from './core/section.js';

// One line per section: its folder's section.ts, which exports it as `section`.
export const SECTIONS: readonly BenchSection[] = [
  (await import('./throughput/section.js')).section,
  (await import('./transfer/section.js')).section,
  (await import('./precision/section.js')).section,
  (await import('./memory/section.js')).section,
  (await import('./gemm/section.js')).section,
  (await import('./tfjs/section.js')).section,
  (await import('./distributed/section.js')).section,
  (await import('./data/section.js')).section,
  (await import('./serve/section.js')).section,
  (await import('./optimizer/section.js')).section,
  (await import('./roofline/section.js')).section,
  (await import('./fewshot/section.js')).section,
  (await import('./adapt/section.js')).section,
  (await import('./fit/section.js')).section,
];
