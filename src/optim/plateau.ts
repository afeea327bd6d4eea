/** ReduceLROnPlateau: cut the lr when a monitored metric stops improving (PyTorch 1.13's rules). */
import { argumentError } from '../errors.js';
import { Optimizer } from './optimizer.js';
import {
  checkFinite,
  checkStateDict,
  decodeNumber,
  encodeNumber,
  perGroup,
  stateInteger,
  type LRScheduler,
  type SchedulerStateDict,
} from './lr-scheduler.js';

export interface PlateauOptions {
  /** 'min' for a loss, 'max' for an accuracy. */
  mode?: 'min' | 'max';
  /** New lr = lr * factor (< 1). */
  factor?: number;
  /** Bad steps tolerated before the lr is cut. */
  patience?: number;
  /** What counts as an improvement, relative ('rel') or absolute ('abs'). */
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  /** Steps to wait after a cut before counting bad steps again. */
  cooldown?: number;
  /** Floor for the lr, one for all groups or one per group. */
  minLr?: number | number[];
  /** Cuts smaller than this are skipped. */
  eps?: number;
}

/**
 * Multiplies every group's lr by `factor` once the metric has not improved for more than
 * `patience` steps. Call `step(metric)` after each validation.
 *
 * @example
 * const sched = new ReduceLROnPlateau(opt, { mode: 'min', patience: 3 });
 * sched.step(validationLoss);
 */
export class ReduceLROnPlateau implements LRScheduler {
  readonly kind = 'ReduceLROnPlateau';
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  #lastLr: number[] | null = null;

  constructor(
    readonly optimizer: Optimizer,
    o: PlateauOptions = {},
  ) {
    if (!(optimizer instanceof Optimizer)) throw argumentError('optimizer of ReduceLROnPlateau', 'an Optimizer (SGD, Adam, AdamW)', optimizer);
    this.mode = o.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') throw argumentError('mode', '"min" or "max"', this.mode);
    this.thresholdMode = o.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') throw argumentError('thresholdMode', '"rel" or "abs"', this.thresholdMode);
    this.factor = checkFinite('factor', o.factor ?? 0.1, (v) => v >= 0 && v < 1, 'a factor in [0, 1)');
    this.patience = checkFinite('patience', o.patience ?? 10, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    this.threshold = checkFinite('threshold', o.threshold ?? 1e-4, (v) => v >= 0, 'a number >= 0');
    this.cooldown = checkFinite('cooldown', o.cooldown ?? 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    this.minLrs = perGroup(o.minLr ?? 0, optimizer, 'minLr').map((v, i) => checkFinite(`minLr[${i}]`, v, (x) => x >= 0, 'a number >= 0'));
    this.eps = checkFinite('eps', o.eps ?? 1e-8, (v) => v >= 0, 'a number >= 0');
    this.best = this.worst;
  }

  private get worst(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records one metric value (a NaN metric counts as no improvement, as in PyTorch). */
  step(metric?: number): void {
    if (typeof metric !== 'number') throw argumentError('metric', 'a number (ReduceLROnPlateau.step needs the monitored metric)', metric);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** The lrs after the last step(); before any step, the groups' current lrs. */
  getLastLr(): number[] {
    return this.#lastLr === null ? this.optimizer.paramGroups.map((g) => g.lr) : [...this.#lastLr];
  }

  stateDict(): SchedulerStateDict {
    return {
      kind: this.kind,
      best: encodeNumber(this.best),
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLr: this.#lastLr === null ? null : [...this.#lastLr],
    };
  }

  /** Restores the position (best, counters); the settings stay the constructor's. */
  loadStateDict(o: unknown): void {
    const s = checkStateDict(o, this.kind);
    const best = decodeNumber(s.best ?? null, this.kind, 'best');
    const numBadEpochs = stateInteger(s, 'numBadEpochs', this.kind, 0);
    const cooldownCounter = stateInteger(s, 'cooldownCounter', this.kind, 0);
    const lastEpoch = stateInteger(s, 'lastEpoch', this.kind, 0);
    const lastLr = s.lastLr === null || s.lastLr === undefined ? null : (s.lastLr as number[]);
    Object.assign(this, { best, numBadEpochs, cooldownCounter, lastEpoch });
    this.#lastLr = lastLr;
  }
}
