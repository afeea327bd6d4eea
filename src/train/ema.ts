/**
 * An exponential moving average of the weights, as timm's ModelEmaV2 keeps it (every entry of
 * the state dict, BatchNorm statistics included), with ModelEmaV3's warm-up of the decay,
 * min(decay, (1 + t) / (10 + t)), so that a short run on small data (a few hundred steps) is
 * not averaged with its initial weights. Its copy travels in checkpoints. At the end of the fit
 * it replaces the model's weights (`apply: 'end'`, what --ema does) or stays beside them for
 * the caller to compare (`apply: 'never'`, what fit does: it keeps whichever validates better).
 */
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { cloneState, disposeState } from '../execution/index.js';
import type { Module } from '../nn/index.js';
import type { Callback, CallbackState, LearnerView } from './callback.js';

/** timm's default for ModelEmaV3 is 0.9999 over ImageNet's hundreds of thousands of steps; small data takes hundreds. */
export const DEFAULT_EMA_DECAY = 0.999;

export class ModelEma implements Callback {
  // After KeepBest (10) and before the report (100): with apply 'end' the averaged weights are
  // what the run keeps and reports.
  readonly order = 20;
  readonly name = 'ema';
  readonly decay: number;
  readonly apply: 'end' | 'never';
  #ema: Map<string, Tensor> | null = null;
  /** Updates so far (the warm-up's t). */
  updates = 0;

  /**
   * @example
   * const learn = new Learner({ model, train, val, callbacks: [new ModelEma({ decay: 0.999 })] });
   */
  constructor(o: { decay?: number; apply?: 'end' | 'never' } = {}) {
    this.decay = o.decay ?? DEFAULT_EMA_DECAY;
    this.apply = o.apply ?? 'end';
  }

  /** The averaged weights (null before the first fit). */
  get weights(): Map<string, Tensor> | null {
    return this.#ema;
  }

  afterSetup(learn: LearnerView): void {
    // After set-up: the plan's memory format is in place. A later fit of the same run (fineTune's
    // second stage) goes on averaging.
    if (this.#ema === null) this.#ema = cloneState(learn.model.stateDict());
  }

  afterStep(learn: LearnerView): void {
    const ema = this.#ema;
    if (ema === null) return;
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    this.updates += 1;
    noGrad(() =>
      tidy(() => {
        for (const [k, w] of learn.model.stateDict()) {
          const e = ema.get(k);
          if (e === undefined) continue;
          if (e.dtype === 'float32' || e.dtype === 'float64') e.mul_(d).add_(w.detach(), 1 - d);
          else e.copy_(w);
        }
      }),
    );
  }

  afterFit(learn: LearnerView): void {
    if (this.apply === 'end' && learn.stage === undefined) this.copyInto(learn.model);
  }

  cleanup(learn: LearnerView): void {
    if (this.apply === 'end' && learn.stage === undefined) this.dispose();
  }

  /** Puts the averaged weights into `model` (whose state dict they were taken from). */
  copyInto(model: Module): void {
    if (this.#ema !== null) model.loadStateDict(this.#ema);
  }

  checkpointState(): CallbackState {
    return { tensors: this.#ema ?? new Map(), meta: { updates: this.updates } };
  }

  loadCheckpointState(s: CallbackState): void {
    this.dispose();
    this.#ema = s.tensors !== undefined && s.tensors.size > 0 ? s.tensors : null;
    this.updates = (s.meta as { updates?: number } | undefined)?.updates ?? 0;
  }

  dispose(): void {
    if (this.#ema !== null) disposeState(this.#ema);
    this.#ema = null;
  }
}
