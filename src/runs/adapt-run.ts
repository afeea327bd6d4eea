/**
 * The adaptation run (`tlcv adapt`, `Model.adapt`): a trained model adapted to unlabelled
 * target images by adaptModel (./adapt.ts), every image decoded with the model's own record,
 * and the result folder written with that record, a report comparing source-only and adapted
 * scores, and the epochs' metrics.
 */
import type { ImageDataset, PreprocessConfig } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import { withoutLabels } from '../transfer/adapt/index.js';
import type { DannOptions } from '../transfer/adapt/index.js';
import { Progress, type TrainOptions } from '../train/index.js';
import { ADAPT_BATCH_CAP, ADAPT_TRAIN_DEFAULTS, adaptModel, type AdaptMethod, type AdaptResult, type PseudoLabelSettings } from './adapt.js';
import { resolveRunSizes } from './run-sizes.js';
import { alignToModelClasses, loadInMemoryForModel, recordForModel, splitValidation } from './data-prep.js';
import { writeResultFolder } from './result-folder.js';

export interface AdaptRunOptions {
  method: AdaptMethod;
  /** Labelled source-domain data in the model's classes (dann and pseudo-label train on it; adabn only scores it). */
  source?: string;
  /** Labelled target test data, scored before, after and every epoch, for the record only. */
  targetTest?: string;
  /** Source validation for dann and pseudo-label: a fraction of `source` (default '0.1'), 'none', or a spec. */
  val?: string;
  options?: Partial<TrainOptions>;
  /** Peak RSS budget in bytes for choosing the batch when `options.batchSize` is unset (see TrainRunOptions). */
  maxMemory?: number;
  dann?: DannOptions;
  pseudoLabel?: PseudoLabelSettings;
  onBadImage?: 'error' | 'skip';
  /** Write the adapted model folder (and report) here. */
  out?: string;
  /** Names the source model in the report and the provenance. */
  from: string;
  description?: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface AdaptRunOutcome {
  result: AdaptResult;
  preprocess: PreprocessConfig | null;
  targetImages: number;
}

/**
 * Adapts `model` (in place) to the images of `target`, whose labels are never read.
 *
 * @example
 * const { result } = await adaptRun(module, classes, record, 'folder:unlabelled', { method: 'adabn', from: 'runs/source' });
 */
export async function adaptRun(model: ClassifierModel, classes: string[], own: PreprocessConfig | null, target: string, r: AdaptRunOptions): Promise<AdaptRunOutcome> {
  const log = r.log ?? ((): void => undefined);
  const how = { ...(r.onBadImage ? { onBadImage: r.onBadImage } : {}), log };
  // Every image goes through the model's own record (what its features were learnt with), and
  // the adapted folder records the same: predict and serve see what adapt saw.
  const preprocess = await recordForModel(model, own, target, how);
  const inMemory = (spec: string): Promise<ImageDataset> => loadInMemoryForModel(spec, model, { ...how, preprocess });
  const load = async (spec: string): Promise<ImageDataset> => alignToModelClasses(await inMemory(spec), classes);
  // The target's labels are dropped as it is loaded: nothing after this line can see them.
  const unlabelled = withoutLabels(await inMemory(target));
  const targetTest = r.targetTest === undefined ? null : await load(r.targetTest);
  let source: ImageDataset | null = null;
  let sourceVal: ImageDataset | null = null;
  const seed = r.options?.seed ?? 0;
  if (r.source !== undefined) {
    const all = await load(r.source);
    // adabn trains nothing: all of the source data is for scoring.
    const split = r.method === 'adabn' ? { train: all, val: all } : await splitValidation(all, r.val ?? '0.1', seed, load);
    source = split.train;
    sourceVal = split.val;
  }
  log(`source model: ${r.description ?? r.from}; ${r.method} to ${unlabelled.n} target images${targetTest ? `; target test ${targetTest.n} images` : ''}`);
  let options = r.options;
  if (source !== null && r.method !== 'adabn') {
    // dann forwards a source and a target batch in each step: twice the images' memory.
    const defaults = { ...ADAPT_TRAIN_DEFAULTS[r.method], ...(r.options ?? {}) };
    const sizes = await resolveRunSizes({ model, train: source, val: sourceVal, options: defaults, cap: ADAPT_BATCH_CAP, inputsPerImage: r.method === 'dann' ? 2 : 1, ...(r.maxMemory === undefined ? {} : { maxMemory: r.maxMemory }), log });
    options = sizes.options;
  }
  const progress = r.quiet ? [] : [new Progress({ title: `${r.method} to ${target}` })];
  const result = await adaptModel(model, {
    method: r.method,
    source,
    sourceVal,
    target: unlabelled,
    targetTest,
    ...(options ? { options } : {}),
    ...(r.dann ? { dann: r.dann } : {}),
    ...(r.pseudoLabel ? { pseudoLabel: r.pseudoLabel } : {}),
    callbacks: progress,
    log,
  });
  if (r.out !== undefined) await writeAdaptFolder(r.out, model, classes, preprocess, { ...r, target, targetImages: unlabelled.n, testSet: targetTest, valSet: sourceVal }, result);
  return { result, preprocess, targetImages: unlabelled.n };
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

async function writeAdaptFolder(
  out: string,
  model: ClassifierModel,
  classes: string[],
  preprocess: PreprocessConfig | null,
  r: AdaptRunOptions & { target: string; targetImages: number; testSet: ImageDataset | null; valSet: ImageDataset | null },
  a: AdaptResult,
): Promise<void> {
  const method = r.method;
  // The report's evaluation: the target test when there is one, else the source validation.
  const scored = r.testSet ? { evaluation: a.after.target, evalSet: r.testSet } : r.valSet ? { evaluation: a.after.source, evalSet: r.valSet } : {};
  const provenance = { command: 'adapt', from: r.from, data: r.source ?? '', target: r.target, ...(r.targetTest ? { targetTest: r.targetTest } : {}), mode: `adapt: ${method}`, method };
  const fit = { history: a.history, bestEpoch: a.history.length, stoppedEarly: false, lrTrace: a.lrTrace };
  const comparison = {
    title: 'Source-only against adapted',
    columns: ['measured on', 'source-only', method],
    rows: [
      ...(a.before.target && a.after.target ? [[`target test (${a.after.target.n} images)`, pct(a.before.target.accuracy), pct(a.after.target.accuracy)]] : []),
      ...(a.before.source && a.after.source ? [[`source ${method === 'adabn' ? 'data' : 'validation'} (${a.after.source.n} images)`, pct(a.before.source.accuracy), pct(a.after.source.accuracy)]] : []),
    ],
  };
  const report = {
    title: `${method}: ${r.from} to ${r.target}`,
    model,
    plan: a.plan,
    options: a.options,
    fit,
    ...scored,
    epochSeconds: a.epochSeconds,
    provenance,
    comparison,
    info: { method, 'target images (unlabelled)': r.targetImages, ...(a.adabn ? { 'BatchNorm layers': a.adabn.layers } : {}) },
  };
  await writeResultFolder(out, { classes, preprocess, report });
}
