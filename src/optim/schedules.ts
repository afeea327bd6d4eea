/**
 * Epoch-counting LR schedules, each the chainable form of its PyTorch 1.13 namesake, with the
 * same lr at construction and after every step(). Groups with different base lrs
 * (discriminative LRs) are each scaled from their own lr.
 */
import { TlcvError, argumentError } from '../errors.js';
import type { Optimizer } from './optimizer.js';
import { powInt } from './exact-math.js';
import {
  EpochScheduler,
  checkFinite,
  checkPositiveInt,
  checkStateDict,
  pyMod,
  stateError,
  stateInteger,
  type LRScheduler,
  type SchedulerStateDict,
} from './lr-scheduler.js';

/**
 * Multiplies the lr by gamma every stepSize steps (torch.optim.lr_scheduler.StepLR).
 * @example const sched = new StepLR(opt, { stepSize: 7, gamma: 0.1 }); // per epoch: opt.step()...; sched.step();
 */
export class StepLR extends EpochScheduler<{ stepSize: number; gamma: number }> {
  constructor(optimizer: Optimizer, o: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer, { stepSize: checkPositiveInt('stepSize', o.stepSize), gamma: checkFinite('gamma', o.gamma ?? 0.1) });
    this.start();
  }
  protected chainedLr(): number[] {
    const { stepSize, gamma } = this.config;
    if (this.lastEpoch === 0 || this.lastEpoch % stepSize !== 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * gamma);
  }
  protected override closedFormLr(): number[] {
    const { stepSize, gamma } = this.config;
    return this.baseLrs.map((b) => b * powInt(gamma, Math.floor(this.lastEpoch / stepSize)));
  }
}

/**
 * Multiplies the lr by gamma at each milestone (a milestone listed twice applies gamma twice).
 * @example new MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })
 */
export class MultiStepLR extends EpochScheduler<{ milestones: number[]; gamma: number }> {
  constructor(optimizer: Optimizer, o: { milestones: number[]; gamma?: number }) {
    if (!Array.isArray(o.milestones) || o.milestones.some((m) => !Number.isInteger(m) || m < 0)) {
      throw argumentError('milestones', 'an array of non-negative integer steps', o.milestones);
    }
    super('MultiStepLR', optimizer, { milestones: [...o.milestones], gamma: checkFinite('gamma', o.gamma ?? 0.1) });
    this.start();
  }
  protected chainedLr(): number[] {
    const hits = this.config.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * powInt(this.config.gamma, hits));
  }
  protected override closedFormLr(): number[] {
    const passed = this.config.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((b) => b * powInt(this.config.gamma, passed));
  }
}

/** Multiplies the lr by gamma every step. @example new ExponentialLR(opt, { gamma: 0.95 }) */
export class ExponentialLR extends EpochScheduler<{ gamma: number }> {
  constructor(optimizer: Optimizer, o: { gamma: number }) {
    super('ExponentialLR', optimizer, { gamma: checkFinite('gamma', o.gamma) });
    this.start();
  }
  protected chainedLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.config.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * powInt(this.config.gamma, this.lastEpoch));
  }
}

/**
 * Cosine annealing from the base lr to etaMin over tMax steps; past tMax it rises again,
 * as PyTorch's does (period 2 * tMax). @example new CosineAnnealingLR(opt, { tMax: 100 })
 */
export class CosineAnnealingLR extends EpochScheduler<{ tMax: number; etaMin: number }> {
  constructor(optimizer: Optimizer, o: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer, { tMax: checkPositiveInt('tMax', o.tMax), etaMin: checkFinite('etaMin', o.etaMin ?? 0, (v) => v >= 0, 'a number >= 0') });
    this.start();
  }
  protected chainedLr(): number[] {
    const { tMax, etaMin } = this.config;
    const k = this.lastEpoch;
    if (k === 0) return this.groupLrs;
    if (this.stepCount === 1 && k > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((k * Math.PI) / tMax))) / 2);
    }
    if (pyMod(k - 1 - tMax, 2 * tMax) === 0) {
      return this.groupLrs.map((lr, i) => lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    const ratio = (1 + Math.cos((Math.PI * k) / tMax)) / (1 + Math.cos((Math.PI * (k - 1)) / tMax));
    return this.groupLrs.map((lr) => ratio * (lr - etaMin) + etaMin);
  }
  protected override closedFormLr(): number[] {
    const { tMax, etaMin } = this.config;
    return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / tMax))) / 2);
  }
}

/**
 * Scales the lr linearly from startFactor to endFactor over totalIters steps (a warm-up).
 * @example new LinearLR(opt, { startFactor: 0.1, totalIters: 5 })
 */
export class LinearLR extends EpochScheduler<{ startFactor: number; endFactor: number; totalIters: number }> {
  constructor(optimizer: Optimizer, o: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    const inUnit = (v: number): boolean => v > 0 && v <= 1;
    super('LinearLR', optimizer, {
      startFactor: checkFinite('startFactor', o.startFactor ?? 1 / 3, inUnit, 'a factor in (0, 1]'),
      endFactor: checkFinite('endFactor', o.endFactor ?? 1, (v) => v >= 0 && v <= 1, 'a factor in [0, 1]'),
      totalIters: checkPositiveInt('totalIters', o.totalIters ?? 5),
    });
    this.start();
  }
  protected chainedLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: t } = this.config;
    const k = this.lastEpoch;
    if (k === 0) return this.groupLrs.map((lr) => lr * s);
    if (k > t) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * (1 + (e - s) / (t * s + (k - 1) * (e - s))));
  }
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: t } = this.config;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(t, this.lastEpoch)) / t));
  }
}

/**
 * Runs schedulers one after another, switching at the milestones (torch's SequentialLR).
 * Build the schedulers on the same optimizer first, then hand them over.
 * @example new SequentialLR(opt, [new LinearLR(opt, { totalIters: 3 }), new ExponentialLR(opt, { gamma: 0.9 })], [3])
 */
export class SequentialLR implements LRScheduler {
  readonly kind = 'SequentialLR';
  lastEpoch: number;
  #lastLr: number[];

  constructor(
    readonly optimizer: Optimizer,
    private readonly schedulers: EpochScheduler[],
    private readonly milestones: number[],
  ) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw argumentError('schedulers', 'a non-empty array of schedulers', schedulers);
    schedulers.forEach((s, i) => {
      if (!(s instanceof EpochScheduler) || s.optimizer !== optimizer) throw argumentError(`schedulers[${i}]`, 'a scheduler of the same optimizer', s);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1 || milestones.some((m, i) => !Number.isInteger(m) || m < 0 || (i > 0 && m < milestones[i - 1]!))) {
      throw argumentError('milestones', `${schedulers.length - 1} increasing non-negative integers (one fewer than schedulers)`, milestones);
    }
    this.milestones = [...milestones];
    this.lastEpoch = 0;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0]!.restart();
    this.#lastLr = schedulers[0]!.getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepToEpoch(0);
    else scheduler.step();
    this.#lastLr = scheduler.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { kind: this.kind, lastEpoch: this.lastEpoch, lastLr: [...this.#lastLr], milestones: [...this.milestones], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(o: unknown): void {
    const s = checkStateDict(o, this.kind);
    const subs = s.schedulers;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) throw stateError(this.kind, 'schedulers', `${this.schedulers.length} scheduler states`, subs);
    const lastEpoch = stateInteger(s, 'lastEpoch', this.kind, 0);
    const lastLr = s.lastLr;
    if (!Array.isArray(lastLr) || lastLr.some((v) => typeof v !== 'number')) throw stateError(this.kind, 'lastLr', 'numbers', lastLr);
    this.schedulers.forEach((sch, i) => sch.loadStateDict(subs[i]));
    this.lastEpoch = lastEpoch;
    this.#lastLr = lastLr as number[];
  }
}

export interface CosineWithWarmupOptions {
  /** Steps of linear warm-up from startFactor * lr to lr; 0 gives plain cosine annealing. */
  warmupSteps: number;
  /** All steps, warm-up included: the lr reaches etaMin after this many step() calls. */
  totalSteps: number;
  startFactor?: number;
  etaMin?: number;
}

/**
 * Linear warm-up then cosine annealing: PyTorch's
 * SequentialLR([LinearLR(start_factor, total_iters=warmup), CosineAnnealingLR(T_max=total-warmup, eta_min)], [warmup]).
 * @example const sched = cosineWithWarmup(opt, { warmupSteps: 500, totalSteps: 10000 }); // step() every batch
 */
export function cosineWithWarmup(optimizer: Optimizer, o: CosineWithWarmupOptions): LRScheduler {
  const warmup = o.warmupSteps;
  if (!Number.isInteger(warmup) || warmup < 0) throw argumentError('warmupSteps', 'a non-negative integer', warmup);
  const total = checkPositiveInt('totalSteps', o.totalSteps);
  if (total <= warmup) throw new TlcvError('ARGUMENT', `Expected totalSteps (${total}) to be greater than warmupSteps (${warmup})`);
  const etaMin = o.etaMin ?? 0;
  if (warmup === 0) return new CosineAnnealingLR(optimizer, { tMax: total, etaMin });
  const linear = new LinearLR(optimizer, { startFactor: o.startFactor ?? 1 / 3, endFactor: 1, totalIters: warmup });
  const cosine = new CosineAnnealingLR(optimizer, { tMax: total - warmup, etaMin });
  return new SequentialLR(optimizer, [linear, cosine], [warmup]);
}
