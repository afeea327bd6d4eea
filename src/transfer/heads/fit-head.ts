/**
 * Training-free heads on a model: extract the support set's pooled features once, fit the
 * head (nearest class mean, k-nearest neighbours or a linear probe) and put it in place of the
 * classifier. Seconds, not epochs; the backbone is not touched.
 */
import { TlcvError, argumentError } from '../../errors.js';
import { disposeAll } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import type { BatchSource } from '../../data/index.js';
import type { ExecutionPlan } from '../../execution/index.js';
import { extractFeatures, featureMean, installHeadModule, installLinearHead } from './features.js';
import { fitNcm } from './ncm.js';
import { KnnHead } from './knn.js';
import { fitProbe, type ProbeOptions, type ProbeSweepRow } from './probe.js';

export const HEAD_MODES = ['ncm', 'knn', 'probe'] as const;
export type HeadMode = (typeof HEAD_MODES)[number];

export interface FewShotHeadOptions {
  mode: HeadMode;
  /** The labelled support set (target domain), in any order. */
  support: BatchSource;
  numClasses: number;
  plan: ExecutionPlan;
  /** Source-domain images whose mean feature ncm and knn centre on (default: the support mean). */
  source?: BatchSource | null;
  /** knn: neighbours that vote. */
  k?: number;
  /** ncm: logit scale. */
  temperature?: number;
  probe?: ProbeOptions;
}

export interface FewShotHeadResult {
  mode: HeadMode;
  supportImages: number;
  featureDim: number;
  centeredOn: 'source' | 'support';
  seconds: number;
  /** probe: the L2 strength chosen and the held-out results behind the choice. */
  lambda?: number;
  sweep?: ProbeSweepRow[];
}

/**
 * Replaces what feature extraction would train (the classifier; seed-cnn's whole MLP) with a
 * training-free head fitted on the support set's features: the pooled features for ResNet and
 * MobileNet, the flattened convolutional features for seed-cnn.
 *
 * @example
 * const loader = (ds) => new DataLoader(ds, { batchSize: 256, mean: model.config.mean, std: model.config.std });
 * const r = fitFewShotHead(model, { mode: 'ncm', support: loader(train), source: loader(sourceData), numClasses: train.classes.length, plan });
 * evaluateModel(model, loader(test), { plan, classNames: test.classes }); // as with any head
 */
export async function fitFewShotHead(model: ClassifierModel, o: FewShotHeadOptions): Promise<FewShotHeadResult> {
  if (!HEAD_MODES.includes(o.mode)) throw argumentError('head mode', HEAD_MODES.join(', '), o.mode);
  if (o.mode === 'probe' && o.source) throw new TlcvError('ARGUMENT', 'probe standardises the support features itself: source data applies to ncm and knn only');
  const t0 = performance.now();
  // The head takes the place of everything feature extraction would train (seed-cnn: its MLP).
  model.resetFeatureExtractionHead(o.numClasses);
  const center = o.source ? await featureMean(model, o.source, o.plan) : undefined;
  let support: Awaited<ReturnType<typeof extractFeatures>>;
  try {
    support = await extractFeatures(model, o.support, o.plan);
  } catch (e) {
    center?.dispose();
    throw e;
  }
  const [n, dim] = support.features.shape as [number, number];
  const result: FewShotHeadResult = { mode: o.mode, supportImages: n, featureDim: dim, centeredOn: center ? 'source' : 'support', seconds: 0 };
  try {
    if (o.mode === 'ncm') {
      const head = fitNcm(support.features, support.labels, o.numClasses, { ...(center ? { center } : {}), ...(o.temperature === undefined ? {} : { temperature: o.temperature }) });
      installLinearHead(model, head.weight, head.bias);
      disposeAll(head);
    } else if (o.mode === 'knn') {
      installHeadModule(model, KnnHead.fit(support.features, support.labels, o.numClasses, { ...(center ? { center } : {}), ...(o.k === undefined ? {} : { k: o.k }) }), o.numClasses);
    } else {
      const probe = fitProbe(support.features, support.labels, o.numClasses, o.probe);
      installLinearHead(model, probe.weight, probe.bias);
      disposeAll(probe);
      result.lambda = probe.lambda;
      result.sweep = probe.sweep;
    }
  } finally {
    support.features.dispose();
    center?.dispose();
  }
  model.eval();
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
