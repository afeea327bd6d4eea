/** The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR), with its momentum cycling. */
import { TlcvError, argumentError } from '../errors.js';
import type { Optimizer } from './optimizer.js';
import { EpochScheduler, checkFinite, checkPositiveInt, perGroup, stateError } from './lr-scheduler.js';
import type { JsonValue } from './optimizer.js';

export interface OneCycleOptions {
  /** Peak lr, one for all groups or one per group. */
  maxLr: number | number[];
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle SGD's momentum or Adam's beta1 inversely to the lr (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

type OneCycleConfig = {
  totalSteps: number;
  anneal: 'cos' | 'linear';
  cycleMomentum: boolean;
  phases: Phase[];
  initialLrs: number[];
  maxLrs: number[];
  minLrs: number[];
  maxMomentums: number[];
  baseMomentums: number[];
};

/**
 * Warms the lr up from maxLr/divFactor to maxLr over pctStart of the steps, then anneals it to
 * maxLr/(divFactor*finalDivFactor); momentum moves the opposite way. Step it once per batch.
 * Defaults are PyTorch's: cos anneal, pctStart 0.3, divFactor 25, finalDivFactor 1e4, two phases.
 *
 * @example
 * const sched = new OneCycleLR(opt, { maxLr: 0.01, epochs: 10, stepsPerEpoch: batches });
 */
export class OneCycleLR extends EpochScheduler<OneCycleConfig & Record<string, JsonValue>> {
  constructor(optimizer: Optimizer, o: OneCycleOptions) {
    const totalSteps = resolveTotal(o);
    const pct = checkFinite('pctStart', o.pctStart ?? 0.3, (v) => v >= 0 && v <= 1, 'a fraction in [0, 1]');
    const anneal = o.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw argumentError('annealStrategy', '"cos" or "linear"', anneal);
    const div = checkFinite('divFactor', o.divFactor ?? 25, (v) => v > 0, 'a number > 0');
    const finalDiv = checkFinite('finalDivFactor', o.finalDivFactor ?? 1e4, (v) => v > 0, 'a number > 0');
    const maxLrs = perGroup(o.maxLr, optimizer, 'maxLr').map((v, i) => checkFinite(`maxLr[${i}]`, v, (x) => x > 0, 'a learning rate > 0'));
    const cycleMomentum = o.cycleMomentum ?? true;
    if (cycleMomentum && optimizer.momentumKind === null) {
      throw argumentError('cycleMomentum', `false for ${optimizer.kind}, which has no momentum`, true);
    }
    const phases: Phase[] = o.threePhase
      ? [
          { endStep: pct * totalSteps - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pct * totalSteps - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
          { endStep: totalSteps - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pct * totalSteps - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: totalSteps - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
        ];
    const initialLrs = maxLrs.map((m) => m / div);
    const config: OneCycleConfig = {
      totalSteps,
      anneal,
      cycleMomentum,
      phases,
      initialLrs,
      maxLrs,
      minLrs: initialLrs.map((l) => l / finalDiv),
      maxMomentums: cycleMomentum ? perGroup(o.maxMomentum ?? 0.95, optimizer, 'maxMomentum') : [],
      baseMomentums: cycleMomentum ? perGroup(o.baseMomentum ?? 0.85, optimizer, 'baseMomentum') : [],
    };
    super('OneCycleLR', optimizer, config as OneCycleConfig & Record<string, JsonValue>);
    optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = initialLrs[i]!;
      if (cycleMomentum) this.setMomentum(i, config.maxMomentums[i]!);
    });
    this.start();
  }

  override step(): void {
    if (this.lastEpoch + 1 > this.config.totalSteps) {
      throw new TlcvError('TRAINING', `OneCycleLR was stepped ${this.lastEpoch + 2} times but its totalSteps is ${this.config.totalSteps}`);
    }
    super.step();
  }

  protected chainedLr(): number[] {
    const c = this.config;
    const stepNum = this.lastEpoch;
    const anneal = c.anneal === 'cos' ? annealCos : annealLinear;
    return this.optimizer.paramGroups.map((_g, i) => {
      const lrOf = { initial: c.initialLrs[i]!, max: c.maxLrs[i]!, min: c.minLrs[i]! };
      const momOf = { max: c.maxMomentums[i]!, base: c.baseMomentums[i]! };
      let startStep = 0;
      for (let p = 0; p < c.phases.length; p += 1) {
        const phase = c.phases[p]!;
        if (stepNum <= phase.endStep || p === c.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          if (c.cycleMomentum) this.setMomentum(i, anneal(momOf[phase.startMomentum], momOf[phase.endMomentum], pct));
          return anneal(lrOf[phase.startLr], lrOf[phase.endLr], pct);
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }

  private setMomentum(i: number, m: number): void {
    const g = this.optimizer.paramGroups[i] as { momentum?: number; betas?: [number, number] };
    if (this.optimizer.momentumKind === 'beta1') g.betas = [m, g.betas![1]];
    else g.momentum = m;
  }

  override loadStateDict(o: unknown): void {
    super.loadStateDict(o);
    const n = this.optimizer.paramGroups.length;
    for (const key of ['initialLrs', 'maxLrs', 'minLrs'] as const) {
      if (this.config[key].length !== n) throw stateError(this.kind, `config.${key}`, `${n} values`, this.config[key]);
    }
  }
}

function annealCos(start: number, end: number, pct: number): number {
  const cosOut = Math.cos(Math.PI * pct) + 1;
  return end + ((start - end) / 2.0) * cosOut;
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

function resolveTotal(o: OneCycleOptions): number {
  if (o.totalSteps !== undefined) return checkPositiveInt('totalSteps', o.totalSteps);
  if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
    throw new TlcvError('ARGUMENT', 'OneCycleLR needs totalSteps, or epochs and stepsPerEpoch');
  }
  return checkPositiveInt('epochs', o.epochs) * checkPositiveInt('stepsPerEpoch', o.stepsPerEpoch);
}
