/**
 * report.html for a training run, written by a consumer of the run (the Report callback, the
 * demo) from its history and an evaluation: training itself writes no report.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ClassifierModel } from '../models/index.js';
import { configureFiles, imageBytes, isFileDataset, readFileBatch, type Dataset } from '../data/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { encodePng, writeReport, type ReportData } from '../report/index.js';
import { describePlan, type ExecutionPlan } from '../execution/index.js';
import type { TrainOptions } from './options.js';
import type { Callback, FitResult, LearnerView } from './callback.js';

export interface RunReportInput {
  title: string;
  model: ClassifierModel;
  plan: ExecutionPlan;
  options: TrainOptions;
  fit: FitResult;
  /** The final evaluation and the data it was made on (absent when no labelled data was there to score). */
  evaluation?: EvaluationResult;
  evalSet?: Dataset;
  epochSeconds: number[];
  provenance: Record<string, unknown>;
  comparison?: ReportData['comparison'];
  learningCurve?: ReportData['learningCurve'];
  /** More key/value lines for the run's summary (a training-free head's kind, an adaptation's method). */
  info?: Record<string, string | number>;
}

/** The model input of the image at a dataset position: a streaming one decodes its file with the centre crop, as evaluation saw it. */
async function inputPixels(ds: Dataset, index: number): Promise<Uint8Array> {
  if (!isFileDataset(ds)) return ds.images.subarray(index * imageBytes(ds), (index + 1) * imageBytes(ds));
  return (await readFileBatch(configureFiles(ds, ds.preprocess, { train: false }), Int32Array.of(index), 0, 0)).bytes;
}

/** The most confidently wrong images of an evaluation, as PNGs with their labels. */
export async function worstImages(ds: Dataset, evaluation: EvaluationResult, limit = 16): Promise<NonNullable<ReportData['worstImages']>> {
  const scale = Math.max(1, Math.round(64 / Math.max(ds.height, ds.width)));
  const out: NonNullable<ReportData['worstImages']> = [];
  for (const w of evaluation.worst.slice(0, limit)) {
    const pixels = await inputPixels(ds, w.index);
    if (pixels.length === 0) continue; // a file that went bad since the evaluation, skipped under 'skip'

    out.push({
      png: await encodePng(pixels, ds.channels, ds.height, ds.width, scale),
      label: ds.classes[w.label] ?? String(w.label),
      predicted: ds.classes[w.predicted] ?? String(w.predicted),
      confidence: w.confidence,
    });
  }
  return out;
}

/**
 * Writes a run's report: loss, accuracy and LR curves, the evaluation's charts, the worst images.
 *
 * @example
 * await writeRunReport('runs/a/report.html', { title, model, plan, options, fit, evaluation, evalSet: test, epochSeconds: [], provenance: {} });
 */
export async function writeRunReport(path: string, r: RunReportInput): Promise<void> {
  const trained = r.fit.history.length > 0;
  const runInfo: Record<string, string | number> = {
    model: r.model.config.name,
    data: String(r.provenance.data ?? ''),
    mode: String(r.provenance.mode ?? 'pretrain'),
    seed: r.options.seed,
    execution: describePlan(r.plan),
    // A training-free head or AdaBN has no optimizer, schedule or epochs to speak of.
    ...(trained ? { optimizer: `${r.options.optimizer} lr ${r.options.lr}`, schedule: r.options.scheduler, 'best epoch': r.fit.bestEpoch } : {}),
    ...(r.info ?? {}),
  };
  const data: ReportData = {
    title: r.title,
    runInfo,
    epochs: r.fit.history.map((h, i) => ({ ...h, ...(r.epochSeconds[i] !== undefined ? { seconds: r.epochSeconds[i] } : {}) })),
    lrTrace: r.fit.lrTrace,
    ...(r.evaluation && r.evalSet ? { evaluation: { ...r.evaluation, classNames: r.evalSet.classes }, worstImages: await worstImages(r.evalSet, r.evaluation) } : {}),
    ...(r.comparison ? { comparison: r.comparison } : {}),
    ...(r.learningCurve ? { learningCurve: r.learningCurve } : {}),
  };
  writeReport(path, data);
}

export interface ReportOptions {
  title: string;
  /** What the report evaluates the trained model on (the validation set, or the training set). */
  evalSet: Dataset;
  provenance: Record<string, unknown>;
  /** More summary lines, asked for when the report is written (after the callbacks before it, such as a calibration). */
  info?: () => Record<string, string | number>;
}

/**
 * At the end of a fit (after KeepBest has restored the best weights), evaluates the model and
 * writes report.html. Its `evaluation` is there for the caller afterwards.
 *
 * @example
 * const report = new Report('runs/a/report.html', { title: 'digits', evalSet: val, provenance: {} });
 * await new Learner({ model, train, val, callbacks: [report] }).fit();
 * console.log(report.evaluation!.accuracy);
 */
export class Report implements Callback {
  readonly order = 100;
  readonly name = 'report';
  evaluation: EvaluationResult | null = null;

  constructor(
    readonly path: string,
    readonly o: ReportOptions,
  ) {}

  async afterFit(learn: LearnerView): Promise<void> {
    // A named stage (fineTune's head-only warm-up) is part of a larger run, reported at its end;
    // rank 0 alone writes a data-parallel run's report.
    if (learn.stage !== undefined || !learn.isMain) return;
    this.evaluation = await learn.evaluate(this.o.evalSet);
    mkdirSync(dirname(this.path), { recursive: true });
    await writeRunReport(this.path, {
      title: this.o.title,
      model: learn.model,
      plan: learn.plan!,
      options: learn.options,
      fit: { history: learn.history, bestEpoch: learn.bestEpoch, stoppedEarly: learn.stopReason !== null, lrTrace: learn.lrTrace },
      evaluation: this.evaluation,
      evalSet: this.o.evalSet,
      epochSeconds: learn.epochSeconds,
      provenance: this.o.provenance,
      ...(this.o.info ? { info: this.o.info() } : {}),
    });
  }
}
