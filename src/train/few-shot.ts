/**
 * Training-free heads on a Learner's data: the support set is the Learner's training data,
 * read once in order through the model's loaders and the run's plan (or an inference plan
 * timed on the support set's first batch).
 */
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';
import { layOutForPlan, tunePlanOn, type ExecutionPlan } from '../execution/index.js';
import { fitFewShotHead, type FewShotHeadResult, type HeadMode, type ProbeOptions } from '../transfer/heads/index.js';
import { isBatchSource, type BatchSource, type DataInput } from './batches.js';
import type { TrainOptions } from './options.js';
import { loaderFor } from './setup.js';

export interface FewShotHeadRequest {
  mode: HeadMode;
  /** knn: neighbours that vote (default 5). */
  k?: number;
  /** ncm and knn: source-domain data whose mean feature they centre on (default: the support set's mean). */
  center?: DataInput | null;
  /** ncm: logit scale (default 10). */
  temperature?: number;
  /** probe: the L2 sweep and its held-out split. */
  probe?: ProbeOptions;
  /** Classes of the new head (default: the support set's). */
  numClasses?: number;
  /** Batch size for feature extraction (default 256). */
  batchSize?: number;
}

/**
 * Fits the head on `support` with `plan` (timed on the support set when null); returns the
 * head's summary and the plan used.
 */
export async function fitHeadOn(
  model: ClassifierModel,
  support: DataInput,
  r: FewShotHeadRequest,
  plan: ExecutionPlan | null,
  o: TrainOptions,
): Promise<{ result: FewShotHeadResult; plan: ExecutionPlan }> {
  const numClasses = r.numClasses ?? (isBatchSource(support) ? undefined : support.classes.length);
  if (numClasses === undefined) throw new TlcvError('ARGUMENT', 'fewShotHead: give numClasses when the support set is a batch source (a dataset says it itself)');
  const source = (d: DataInput): BatchSource => (isBatchSource(d) ? d : loaderFor(d, model, o, { train: false, batchSize: r.batchSize ?? 256 }));
  const supportSource = source(support);
  const chosen =
    plan ?? (await tunePlanOn(supportSource, { model, stages: model.stages(), frozenStages: 0, train: false, precision: o.precision, channelsLast: o.channelsLast, device: o.device }));
  layOutForPlan(model, chosen);
  const result = await fitFewShotHead(model, {
    mode: r.mode,
    support: supportSource,
    numClasses,
    plan: chosen,
    ...(r.center ? { source: source(r.center) } : {}),
    ...(r.k === undefined ? {} : { k: r.k }),
    ...(r.temperature === undefined ? {} : { temperature: r.temperature }),
    ...(r.probe === undefined ? {} : { probe: r.probe }),
  });
  return { result, plan: chosen };
}
