/** Scoring a model on a batch source: the epoch's validation, and a full evaluation with the metrics users expect. */
import { F, inferenceMode, noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { FoldedInference } from '../nn/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import { MetricsAccumulator, type EvaluationResult } from '../metrics/index.js';
import { firstBatchOf, foldedForPlan, layOutForPlan, planExecution, planForward, ttaProbabilities, tunePlan, type ExecutionPlan } from '../execution/index.js';
import { forEachBatch, isBatchSource, type BatchSource, type DataInput } from './batches.js';
import type { TrainOptions } from './options.js';
import { loaderFor } from './setup.js';

/** A normalised batch [N, C, H, W] to fp32 logits: what runs the batches instead of the model's own forward. */
export type BatchForward = (x: Tensor) => Tensor;

export interface EvaluateOptions {
  plan: ExecutionPlan;
  classNames: string[];
  keepWorst?: number;
  /** Test-time augmentation: each image's probabilities averaged with its mirror image's. */
  tta?: boolean;
  /** Runs each batch instead of the model's libtorch forward (an inference engine); called inside the loop's tidy. */
  forward?: BatchForward | null;
}

/**
 * Accuracy, top-5, per-class precision/recall/F1, the confusion matrix, mean loss and the most
 * confidently wrong samples of a model on a source (read in order, epoch 0).
 *
 * @example
 * const r = await evaluateModel(model, new DataLoader(test, { batchSize: 256, mean, std }), { plan, classNames: test.classes });
 */
export async function evaluateModel(model: ClassifierModel, source: BatchSource, o: EvaluateOptions): Promise<EvaluationResult> {
  const acc = new MetricsAccumulator(model.numClasses, { topK: 5, keepWorst: o.keepWorst ?? 16 });
  model.eval();
  source.setEpoch(0);
  let offset = 0;
  let lossSum = 0;
  // One folded view for the whole pass: its BatchNorms folded, its weights pre-cast once (none
  // when another forward runs the batches).
  const forward = o.forward ?? null;
  const folded = forward === null ? foldedForPlan(model, o.plan) : null;
  await forEachBatch(source, (batch) => {
    const n = batch.y.size(0);
    const [probs, targets, loss] = inferenceMode(() =>
      tidy(() => {
        const targets = Int32Array.from(batch.y.toFlatArray());
        const run = (x: Tensor): Tensor => (forward === null ? planForward(model, x, o.plan, { folded }) : forward(x));
        if (o.tta === true) {
          const probs = ttaProbabilities(run, batch.x, true);
          return [probs.toTypedArray() as Float32Array, targets, F.nllLoss(probs.clamp(1e-12, 1).log(), batch.y, { reduction: 'sum' }).item()] as const;
        }
        const logits = run(batch.x);
        const l = F.crossEntropy(logits, batch.y, { reduction: 'sum' }).item();
        return [F.softmax(logits, 1).toTypedArray() as Float32Array, targets, l] as const;
      }),
    );
    lossSum += loss;
    // Dataset positions, not counts: a streaming batch may leave out a bad file skipped under 'skip'.
    acc.add(probs, targets, Array.from(batch.indices));
    offset += n;
    batch.x.dispose();
    batch.y.dispose();
  }).finally(() => folded?.dispose());
  const result = acc.result(o.classNames);
  result.loss = lossSum / Math.max(offset, 1);
  return result;
}

/**
 * Mean loss and accuracy without gradients, from stage `from` on (earlier stages cached), and
 * the sums behind them (a data-parallel run adds up its ranks').
 *
 * @example
 * const { loss, acc } = await validate(model, model.stages(), valLoader, plan);
 */
export async function validate(model: ClassifierModel, stages: Stage[], source: BatchSource, plan: ExecutionPlan, from = 0): Promise<{ loss: number; acc: number; lossSum: number; correct: number; n: number }> {
  model.eval();
  const t = { loss: 0, correct: 0, n: 0 };
  source.setEpoch(0);
  // The weights changed since the last epoch: a new view of the stages this pass runs.
  const folded = foldedForPlan(model, plan, { stages, from });
  await forEachBatch(source, (batch) => {
    noGrad(() =>
      tidy(() => {
        const logits = planForward(model, batch.x, plan, { from, stages, folded });
        t.loss += F.crossEntropy(logits, batch.y, { reduction: 'sum' }).item();
        t.correct += logits.argmax(1).eq(batch.y).sum().item();
        t.n += batch.y.size(0);
      }),
    );
    batch.x.dispose();
    batch.y.dispose();
  }).finally(() => folded.dispose());
  return { loss: t.loss / Math.max(t.n, 1), acc: t.correct / Math.max(t.n, 1), lossSum: t.loss, correct: t.correct, n: t.n };
}

/**
 * Picks what runs an evaluation's batches once its plan is known (an inference engine): null for
 * the model's own forward. `sample` reads the data's first batch (once; the caller need not
 * dispose it), and `libtorchStep` runs a batch as the loop would, for timing against it.
 */
export type EvaluationEngine = (plan: ExecutionPlan, sample: () => Promise<Tensor | null>, libtorchStep: (x: Tensor) => void) => Promise<BatchForward | null>;

export interface EvaluateDataOptions {
  /** Batch size of the loader built for a dataset (default: the training batch size). */
  batchSize?: number;
  /** Class names of the result (default: the Learner's, else the dataset's). */
  classNames?: string[];
  /** Test-time augmentation (see EvaluateOptions). */
  tta?: boolean;
  /** Chooses what runs the batches (default: the model's libtorch forward under the plan). */
  engine?: EvaluationEngine;
}

/** Evaluates with `plan`, or with an inference plan timed on the data's first batch; `e.engine` may run the batches instead. */
export async function evaluateOn(model: ClassifierModel, data: DataInput, plan: ExecutionPlan | null, o: TrainOptions, classes: string[] | undefined, e: EvaluateDataOptions): Promise<{ result: EvaluationResult; plan: ExecutionPlan }> {
  const source = isBatchSource(data) ? data : loaderFor(data, model, o, { train: false, ...(e.batchSize === undefined ? {} : { batchSize: e.batchSize }) });
  // The first batch, read once for whichever timing needs it, and the folded view the libtorch
  // side of an engine timing runs (made only if it runs): both freed once the choices are made.
  const held: { first: Promise<{ x: Tensor; y: Tensor } | null> | null; folded: FoldedInference | null } = { first: null, folded: null };
  const sample = (): Promise<{ x: Tensor; y: Tensor } | null> => (held.first ??= firstBatchOf(source));
  let chosen: ExecutionPlan;
  let forward: BatchForward | null = null;
  try {
    const tune = { model, stages: model.stages(), frozenStages: 0, train: false, precision: o.precision, channelsLast: o.channelsLast, device: o.device };
    const s = plan === null ? await sample() : null;
    chosen = plan ?? (s === null ? planExecution(tune) : tunePlan({ ...tune, ...s }));
    layOutForPlan(model, chosen);
    if (e.engine !== undefined) {
      const step = (x: Tensor): void => {
        held.folded ??= foldedForPlan(model, chosen);
        planForward(model, x, chosen, { folded: held.folded }).sum().item();
      };
      forward = await e.engine(chosen, async () => (await sample())?.x ?? null, step);
    }
  } finally {
    held.folded?.dispose();
    const s = held.first === null ? null : await held.first.catch(() => null);
    s?.x.dispose();
    s?.y.dispose();
  }
  const classNames = e.classNames ?? classes ?? (isBatchSource(data) ? Array.from({ length: model.numClasses }, (_, i) => String(i)) : data.classes);
  return { result: await evaluateModel(model, source, { plan: chosen, classNames, forward, ...(e.tta ? { tta: true } : {}) }), plan: chosen };
}
