/** Builds report.html for a training run from its history and evaluation. */
import type { ClassifierModel } from '../models/index.js';
import type { ImageDataset } from '../data/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { encodePng, writeReport, type ReportData } from '../report/index.js';
import type { TrainOptions } from './options.js';
import { describePlan, type ExecutionPlan } from './precision.js';
import type { FitResult } from './trainer.js';

export interface RunReportInput {
  title: string;
  model: ClassifierModel;
  plan: ExecutionPlan;
  options: TrainOptions;
  fit: FitResult;
  evaluation: EvaluationResult;
  evalSet: ImageDataset;
  epochSeconds: number[];
  provenance: Record<string, unknown>;
  comparison?: ReportData['comparison'];
  learningCurve?: ReportData['learningCurve'];
}

export async function worstImages(ds: ImageDataset, evaluation: EvaluationResult, limit = 16): Promise<NonNullable<ReportData['worstImages']>> {
  const size = ds.channels * ds.height * ds.width;
  const scale = Math.max(1, Math.round(64 / Math.max(ds.height, ds.width)));
  const out: NonNullable<ReportData['worstImages']> = [];
  for (const w of evaluation.worst.slice(0, limit)) {
    const pixels = ds.images.subarray(w.index * size, (w.index + 1) * size);
    out.push({
      png: await encodePng(pixels, ds.channels, ds.height, ds.width, scale),
      label: ds.classes[w.label] ?? String(w.label),
      predicted: ds.classes[w.predicted] ?? String(w.predicted),
      confidence: w.confidence,
    });
  }
  return out;
}

export async function writeRunReport(path: string, r: RunReportInput): Promise<void> {
  const runInfo: Record<string, string | number> = {
    model: r.model.config.name,
    data: String(r.provenance.data ?? ''),
    mode: String(r.provenance.mode ?? 'pretrain'),
    seed: r.options.seed,
    execution: describePlan(r.plan),
    optimizer: `${r.options.optimizer} lr ${r.options.lr}`,
    schedule: r.options.scheduler,
    'best epoch': r.fit.bestEpoch,
  };
  const data: ReportData = {
    title: r.title,
    runInfo,
    epochs: r.fit.history.map((h, i) => ({ ...h, ...(r.epochSeconds[i] !== undefined ? { seconds: r.epochSeconds[i] } : {}) })),
    lrTrace: r.fit.lrTrace,
    evaluation: { ...r.evaluation, classNames: r.evalSet.classes },
    worstImages: await worstImages(r.evalSet, r.evaluation),
    ...(r.comparison ? { comparison: r.comparison } : {}),
    ...(r.learningCurve ? { learningCurve: r.learningCurve } : {}),
  };
  writeReport(path, data);
}
