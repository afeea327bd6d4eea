/** Keeping the best weights and stopping when validation stops improving, as two callbacks. */
import type { Tensor } from '../tensor/index.js';
import { cloneState, disposeState } from '../execution/index.js';
import type { Callback, CallbackState, LearnerView } from './callback.js';

/**
 * Copies the weights of each epoch that sets a new best score and puts the best back at the end
 * of the fit. Its copy travels in checkpoints, so a resumed run ends on the same weights.
 *
 * @example
 * new Learner({ model, train, val, callbacks: [new KeepBest()] });
 */
export class KeepBest implements Callback {
  readonly order = 10;
  readonly name = 'keep-best';
  #best: Map<string, Tensor> | null = null;

  afterEpoch(learn: LearnerView): void {
    if (learn.bestEpoch !== learn.epoch) return;
    this.#drop();
    this.#best = cloneState(learn.model.stateDict());
  }

  afterFit(learn: LearnerView): void {
    if (this.#best !== null) learn.model.loadStateDict(this.#best);
  }

  cleanup(): void {
    this.#drop();
  }

  checkpointState(): CallbackState {
    return { tensors: this.#best ?? new Map() };
  }

  loadCheckpointState(s: CallbackState): void {
    this.#drop();
    this.#best = s.tensors !== undefined && s.tensors.size > 0 ? s.tensors : null;
  }

  #drop(): void {
    if (this.#best !== null) disposeState(this.#best);
    this.#best = null;
  }
}

/**
 * Stops training when the best score (validation accuracy) is `patience` epochs old.
 *
 * @example
 * new Learner({ model, train, val, callbacks: [new KeepBest(), new EarlyStopping(3)] });
 */
export class EarlyStopping implements Callback {
  readonly order = 30;
  readonly name = 'early-stopping';

  constructor(readonly patience: number) {}

  afterEpoch(learn: LearnerView): void {
    if (learn.epoch - learn.bestEpoch < this.patience) return;
    learn.requestStop('early stop');
    learn.log(`early stop: no better validation accuracy for ${this.patience} epochs (best ${(learn.bestScore * 100).toFixed(2)}% at epoch ${learn.bestEpoch})`);
  }
}
