/**
 * A labelled target-domain test set scored after each epoch, for the record: the adaptation
 * report's target curve. Nothing reads it back during training (no early stopping, no best
 * weights, no schedule), so the labels it holds cannot steer the run.
 */
import type { ImageDataset } from '../data/index.js';
import type { Callback, LearnerView } from './callback.js';

/**
 * @example
 * const learn = new Learner({ model, train: source, val, callbacks: [new Dann(target), new TargetEvaluation(targetTest)] });
 * await learn.fit(5);
 * learn.history.map((e) => e.targetAcc);
 */
export class TargetEvaluation implements Callback {
  readonly name = 'target-evaluation';
  // After KeepBest and EarlyStopping have read the epoch's record, before it is logged or checkpointed.
  readonly order = 60;

  constructor(
    readonly test: ImageDataset,
    readonly o: { batchSize?: number } = {},
  ) {}

  async afterEpoch(learn: LearnerView): Promise<void> {
    const record = learn.history.at(-1);
    if (record === undefined) return;
    const r = await learn.evaluate(this.test, { batchSize: this.o.batchSize ?? 256 });
    record.targetAcc = r.accuracy;
    if (r.loss !== undefined) record.targetLoss = r.loss;
  }
}
