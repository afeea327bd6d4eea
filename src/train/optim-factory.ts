/**
 * Builds the optimizer and schedule a run asks for, with discriminative learning rates:
 * each trainable layer group gets lr * lrDecay^(distance from the head), as fastai does.
 */
import { Adam, AdamW, SGD, OneCycleLR, ReduceLROnPlateau, StepLR, MultiStepLR, ExponentialLR, cosineWithWarmup, type LRScheduler, type Optimizer, type ParamGroup } from '../optim/index.js';
import { TlcvError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import type { TrainOptions } from './options.js';

export interface TrainingOptimizer {
  readonly lr: number;
  /** optimizer.step() and a per-batch schedule step. */
  step(): void;
  /** Clears the gradients (to none). */
  zeroGrad(): void;
  /** Per-epoch schedule step; ReduceLROnPlateau watches the validation loss. */
  endEpoch(valLoss?: number): void;
  state(): { tensors: Map<string, Tensor>; meta: unknown };
  load(tensors: Map<string, Tensor>, meta: unknown): void;
  dispose(): void;
}

function paramGroups(model: ClassifierModel, stages: Stage[], frozen: number, lr: number, decay: number, auxiliary: Tensor[]): ParamGroup[] {
  const named = model.namedParameters({ trainableOnly: true });
  // First, so that the head's group stays the last one (whose lr is reported).
  const groups: ParamGroup[] = auxiliary.length > 0 ? [{ params: auxiliary, lr, name: 'auxiliary' }] : [];
  const claimed = new Set<string>();
  const trainable = stages.slice(frozen);
  trainable.forEach((stage, i) => {
    const params: Tensor[] = [];
    for (const [name, p] of named) {
      if (!claimed.has(name) && stage.prefixes.some((pre) => name === pre || name.startsWith(`${pre}.`))) {
        params.push(p);
        claimed.add(name);
      }
    }
    if (params.length > 0) groups.push({ params, lr: lr * decay ** (trainable.length - 1 - i), name: stage.name });
  });
  const rest = [...named].filter(([n]) => !claimed.has(n)).map(([, p]) => p);
  if (rest.length > 0) groups.push({ params: rest, lr, name: 'other' });
  if (groups.length === (auxiliary.length > 0 ? 1 : 0)) throw new TlcvError('TRAINING', 'nothing to train: every parameter is frozen');
  return groups;
}

function makeOptimizer(groups: ParamGroup[], o: TrainOptions): Optimizer {
  switch (o.optimizer) {
    case 'sgd':
      return new SGD(groups, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
    case 'adam':
      return new Adam(groups, { lr: o.lr, weightDecay: o.weightDecay });
    default:
      return new AdamW(groups, { lr: o.lr, weightDecay: o.weightDecay });
  }
}

function makeSchedule(opt: Optimizer, o: TrainOptions, stepsPerEpoch: number): { s: LRScheduler | null; perStep: boolean; plateau: boolean } {
  const totalSteps = Math.max(1, o.epochs * stepsPerEpoch);
  switch (o.scheduler) {
    case 'step':
      return { s: new StepLR(opt, { stepSize: o.stepSize, gamma: o.gamma }), perStep: false, plateau: false };
    case 'multistep': {
      const milestones = [Math.round(o.epochs * 0.5), Math.round(o.epochs * 0.75)].filter((m, i, a) => m > 0 && a.indexOf(m) === i);
      return { s: new MultiStepLR(opt, { milestones, gamma: o.gamma }), perStep: false, plateau: false };
    }
    case 'exponential':
      return { s: new ExponentialLR(opt, { gamma: o.gamma }), perStep: false, plateau: false };
    case 'cosine':
      return { s: cosineWithWarmup(opt, { warmupSteps: o.warmupEpochs * stepsPerEpoch, totalSteps, startFactor: 0.01 }), perStep: true, plateau: false };
    case 'onecycle':
      return { s: new OneCycleLR(opt, { maxLr: opt.paramGroups.map((g) => g.lr), totalSteps: totalSteps + 1 }), perStep: true, plateau: false };
    case 'plateau':
      return { s: new ReduceLROnPlateau(opt, { mode: 'min', factor: o.gamma, patience: 2 }), perStep: false, plateau: true };
    default:
      return { s: null, perStep: false, plateau: false };
  }
}

/**
 * The optimizer and schedule of `o` over the trainable stages (those from `frozen` on), and over
 * `auxiliary` parameters trained beside the model (a callback's modules), if any.
 *
 * @example
 * const opt = createTrainingOptimizer(model, model.stages(), 0, resolveTrainOptions({}), loader.length);
 */
export function createTrainingOptimizer(model: ClassifierModel, stages: Stage[], frozen: number, o: TrainOptions, stepsPerEpoch: number, auxiliary: Tensor[] = []): TrainingOptimizer {
  const opt = makeOptimizer(paramGroups(model, stages, frozen, o.lr, o.lrDecay, auxiliary), o);
  const { s, perStep, plateau } = makeSchedule(opt, o, stepsPerEpoch);
  // The head group is last; its lr is the one reported.
  const headGroup = opt.paramGroups.length - 1;
  return {
    get lr() {
      return opt.paramGroups[headGroup]!.lr;
    },
    step() {
      opt.step();
      if (s && perStep) s.step();
    },
    zeroGrad() {
      opt.zeroGrad();
    },
    endEpoch(valLoss) {
      if (!s || perStep) return;
      if (plateau) {
        if (valLoss !== undefined) s.step(valLoss);
      } else s.step();
    },
    state() {
      const sd = opt.stateDict();
      return { tensors: sd.tensors, meta: { optimizer: sd.meta, scheduler: s ? s.stateDict() : null } };
    },
    load(tensors, meta) {
      const m = meta as { optimizer: unknown; scheduler: unknown };
      opt.loadStateDict({ tensors, meta: m.optimizer });
      if (s && m.scheduler) s.loadStateDict(m.scheduler);
    },
    dispose() {
      opt.dispose();
    },
  };
}
