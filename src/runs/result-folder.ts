/**
 * A model folder written in one go at the end of a run that has no checkpoints to resume
 * (a training-free head, an adaptation): the model and its config, metrics.jsonl when there
 * were epochs, and report.html. The same files a training run leaves, so that `evaluate`,
 * `predict`, `serve` and `export` take it like any other.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, runPath } from '../io/run-folder.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { PreprocessConfig } from '../data/index.js';
import type { CalibrationRecord } from '../metrics/index.js';
import { metricsText, writeRunReport, type RunReportInput } from '../train/index.js';
import { saveModelFolder } from './model-folder.js';

/**
 * `preprocess` is the record the model's features were computed and scored with.
 * Replaces what an earlier run left in `dir` (the caller checked it with checkRunFolder before
 * the work began) with this run's files. Files this run writes replace the old ones atomically;
 * those it does not write (a checkpoint, a head stage) are removed, so two runs never mix.
 *
 * @example
 * await writeResultFolder('runs/ncm', { classes, preprocess, report: { title: 'ncm head', model, plan, options, fit, evaluation, evalSet, epochSeconds: [], provenance } });
 */
export async function writeResultFolder(dir: string, o: { classes: string[]; preprocess: PreprocessConfig | null; report: RunReportInput; calibration?: CalibrationRecord | null }): Promise<void> {
  const r = o.report;
  mkdirSync(dir, { recursive: true });
  const stale = [RUN_FILES.checkpoint, RUN_FILES.headStage, ...(r.fit.history.length > 0 ? [] : [RUN_FILES.metrics])];
  for (const name of stale) rmSync(join(dir, name), { recursive: true, force: true });
  saveModelFolder(dir, r.model, { classes: o.classes, preprocess: o.preprocess, calibration: o.calibration ?? null, provenance: { ...r.provenance, options: r.options } });
  if (r.fit.history.length > 0) writeFileAtomic(runPath(dir, 'metrics'), metricsText(r.fit.history));
  await writeRunReport(runPath(dir, 'report'), r);
}
