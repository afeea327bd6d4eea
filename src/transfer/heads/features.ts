/**
 * Pooled backbone features: what a model's classifier layer takes as input ([N, D]), the
 * space the training-free heads and the domain classifier work in. timm calls this
 * `forward_head(pre_logits=True)`; torchvision users get it with a forward hook on `fc`.
 *
 * This file is the one place that knows how to get those features out of a model, so that
 * when the Learner's forward recipe and frozen-prefix cache land, only it needs pointing there.
 */
import { TlcvError } from '../../errors.js';
import type { Module } from '../../nn/index.js';
import { Float32Linear } from '../../nn/float32-linear.js';
import { cat, keep, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { forEachBatch, type BatchSource } from '../../data/index.js';
import { withPlan, type ExecutionPlan } from '../../execution/index.js';

/**
 * One forward that returns the logits and the classifier layer's input. With gradients on,
 * the features stay in the graph, so a loss on them (DANN's domain loss) trains the backbone.
 *
 * The classifier is found by `model.config.classifier` and observed for the duration of the
 * call, as a PyTorch forward hook would: every zoo model's head (pooling, flatten, dropout,
 * then that layer) is covered without knowing its shape.
 *
 * @example
 * const { features, logits } = forwardWithFeatures(model, x); // features [N, 512] for resnet18
 */
export function forwardWithFeatures(model: ClassifierModel, x: Tensor): { features: Tensor; logits: Tensor } {
  const head: Module = model.getSubmodule(model.config.classifier);
  const own = Object.getOwnPropertyDescriptor(head, 'forward');
  const forward = head.forward.bind(head);
  let seen: Tensor | null = null;
  head.forward = (f: Tensor): Tensor => {
    seen?.dispose();
    // A second handle on the same storage and graph node: containers free their own handle
    // on the input once the layer has run.
    seen = keep(f.view(f.shape));
    return forward(f);
  };
  let logits: Tensor;
  try {
    logits = model.forward(x);
  } catch (e) {
    (seen as Tensor | null)?.dispose();
    throw e;
  } finally {
    if (own) Object.defineProperty(head, 'forward', own);
    else delete (head as { forward?: unknown }).forward;
  }
  const captured = seen as Tensor | null;
  if (captured === null) throw new TlcvError('MODEL', `${model.config.name}: its forward never called the classifier layer "${model.config.classifier}"`);
  // Back under the caller's scope, like any other result.
  const features = captured.view(captured.shape);
  captured.dispose();
  return { features, logits };
}

/** Features of one batch in eval mode under the plan, as float32 [N, D]. */
function batchFeatures(model: ClassifierModel, x: Tensor, plan: ExecutionPlan): Tensor {
  const input = plan.channelsLast && x.ndim === 4 ? x.contiguous('channelsLast') : x;
  return withPlan(plan, () => forwardWithFeatures(model, input).features).to('float32').contiguous();
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
