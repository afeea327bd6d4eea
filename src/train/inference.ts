/** The Learner's inference and persistence: evaluation on data, prediction, the model folder. */
import type { ClassifierModel } from '../models/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { tunePlanOn, predictImages, type ExecutionPlan } from '../execution/index.js';
import { loadModelFolder, saveModelFolder } from '../transfer/model-folder.js';
import { isBatchSource, type DataInput } from './batches.js';
import { evaluateModel } from './evaluate.js';
import type { TrainOptions } from './options.js';
import { loaderFor } from './setup.js';

export interface EvaluateDataOptions {
  /** Batch size of the loader built for a dataset (default: the training batch size). */
  batchSize?: number;
  /** Class names of the result (default: the Learner's, else the dataset's). */
  classNames?: string[];
}

/** Evaluates with `plan`, or with an inference plan timed on the data's first batch. */
export async function evaluateOn(model: ClassifierModel, data: DataInput, plan: ExecutionPlan | null, o: TrainOptions, classes: string[] | undefined, e: EvaluateDataOptions): Promise<{ result: EvaluationResult; plan: ExecutionPlan }> {
  const source = isBatchSource(data) ? data : loaderFor(data, model, o, { train: false, ...(e.batchSize === undefined ? {} : { batchSize: e.batchSize }) });
  const chosen =
    plan ?? (await tunePlanOn(source, { model, stages: model.stages(), frozenStages: 0, train: false, precision: o.precision, channelsLast: o.channelsLast, device: o.device }));
  if (chosen.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const classNames = e.classNames ?? classes ?? (isBatchSource(data) ? Array.from({ length: model.numClasses }, (_, i) => String(i)) : data.classes);
  return { result: await evaluateModel(model, source, { plan: chosen, classNames }), plan: chosen };
}

export function predictWith(model: ClassifierModel, images: Uint8Array[], plan: ExecutionPlan | null): number[][] {
  return predictImages(model, images, { plan });
}

export function saveLearner(dir: string, model: ClassifierModel, classes: string[], provenance: Record<string, unknown>): void {
  saveModelFolder(dir, model, { classes, provenance });
}

export function loadLearnerModel(dir: string): { model: ClassifierModel; classes: string[] } {
  const { model, config } = loadModelFolder(dir);
  return { model, classes: config.classes };
}
