/**
 * Pooled backbone features of whole data sources, for the training-free heads: extracted once
 * (or averaged batch by batch) through execution's forward recipe, without gradients.
 */
import { TlcvError } from '../../errors.js';
import type { Module } from '../../nn/index.js';
import { Float32Linear } from '../../nn/float32-linear.js';
import { cat, keep, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { forEachBatch, type BatchSource } from '../../data/index.js';
import { planForwardWithFeatures, type ExecutionPlan } from '../../execution/index.js';

/** Features of one batch in eval mode under the plan, as float32 [N, D]. */
function batchFeatures(model: ClassifierModel, x: Tensor, plan: ExecutionPlan): Tensor {
  return planForwardWithFeatures(model, x, plan).features.to('float32').contiguous();
}

/**
 * Pooled features of every batch of a source, in its order, without gradients and with the
 * model in eval mode. Returns a tensor the caller owns, and the labels the batches carried.
 *
 * @example
 * const support = extractFeatures(model, new DataLoader(train, { batchSize: 256, mean, std }), plan);
 * // support.features: [train.n, D]; support.labels: Int32Array of train.n
 */
export async function extractFeatures(model: ClassifierModel, source: BatchSource, plan: ExecutionPlan): Promise<{ features: Tensor; labels: Int32Array }> {
  model.eval();
  source.setEpoch(0);
  const parts: Tensor[] = [];
  const labels: number[] = [];
  try {
    await forEachBatch(source, (batch) => {
      try {
        parts.push(keep(noGrad(() => tidy(() => batchFeatures(model, batch.x, plan)))));
        for (const y of batch.y.toFlatArray()) labels.push(y);
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    });
    if (parts.length === 0) throw new TlcvError('DATA', 'no images to extract features from: the data source gave no batch');
    return { features: keep(tidy(() => cat(parts, 0))), labels: Int32Array.from(labels) };
  } finally {
    for (const p of parts) p.dispose();
  }
}

/**
 * The mean feature [D] of a source, accumulated batch by batch: memory does not grow with the
 * number of images (SimpleShot centres on the source domain's mean).
 */
export async function featureMean(model: ClassifierModel, source: BatchSource, plan: ExecutionPlan): Promise<Tensor> {
  model.eval();
  source.setEpoch(0);
  let sum: Tensor | null = null;
  let n = 0;
  await forEachBatch(source, (batch) => {
    try {
      const s = noGrad(() =>
        tidy(() => {
          const part = batchFeatures(model, batch.x, plan).to('float64').sum(0);
          return sum === null ? part : part.add(sum);
        }),
      );
      sum?.dispose();
      sum = keep(s);
      n += batch.x.size(0);
    } finally {
      batch.x.dispose();
      batch.y.dispose();
    }
  });
  const total = sum as Tensor | null;
  if (total === null) throw new TlcvError('DATA', 'no images to average features over: the data source gave no batch');
  const mean = keep(tidy(() => total.div(n).to('float32')));
  total.dispose();
  return mean;
}

/** Rows scaled to unit L2 norm (rows of zeros stay zero). */
export function l2Normalize(x: Tensor): Tensor {
  return tidy(() => x.div(x.pow(2).sum(1, true).sqrt().clamp(1e-12)));
}

/**
 * Replaces the model's classifier with a Linear layer holding these weights [C, D] and bias
 * [C], so that evaluate, predict, export and saving work unchanged. The layer computes in
 * float32 under a bf16 plan (see Float32Linear); its state is a plain Linear's.
 */
export function installLinearHead(model: ClassifierModel, weight: Tensor, bias: Tensor): void {
  const [classes, dim] = weight.shape as [number, number];
  const head = new Float32Linear(dim, classes);
  noGrad(() => {
    head.weight.copy_(weight);
    head.bias!.copy_(bias);
  });
  const ref = model.getSubmodule(model.config.classifier).parameters()[0];
  if (ref !== undefined && (ref.device !== 'cpu' || ref.dtype !== 'float32')) head.to({ device: ref.device, dtype: ref.dtype });
  installHeadModule(model, head, classes);
}

/** Puts a head module in place of the classifier (numClasses outputs); the model owns it from then on. */
export function installHeadModule(model: ClassifierModel, head: Module, numClasses: number): void {
  // resetClassifier records numClasses in the config; its fresh Linear is then replaced.
  model.resetClassifier(numClasses);
  model.setSubmodule(model.config.classifier, head);
  head.train(model.training);
}
