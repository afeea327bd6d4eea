/** Adam and AdamW (with AMSGrad), as PyTorch 1.13's single-tensor implementations compute them. */
import { argumentError } from '../errors.js';
import { fusedAdamStep, type Tensor } from '../tensor/index.js';
import { powInt } from './exact-math.js';
import { Optimizer, checkBoolean, checkNumber, type FusedEntry, type MomentumKind, type OptimizerOptions, type ParamGroup, type ResolvedParamGroup } from './optimizer.js';

export interface AdamHyperparams {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamOptions = Partial<AdamHyperparams> & OptimizerOptions;

function resolver(defaultWeightDecay: number) {
  return (h: Partial<AdamHyperparams>, where: string): AdamHyperparams => {
    const lr = checkNumber(where, 'lr', h.lr ?? 1e-3, (v) => v > 0, 'a learning rate > 0');
    const betas = h.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw argumentError(`betas of ${where}`, 'a pair [beta1, beta2]', betas);
    const b1 = checkNumber(where, 'betas[0]', betas[0], (v) => v >= 0 && v < 1, 'a number in [0, 1)');
    const b2 = checkNumber(where, 'betas[1]', betas[1], (v) => v >= 0 && v < 1, 'a number in [0, 1)');
    const eps = checkNumber(where, 'eps', h.eps ?? 1e-8, (v) => v >= 0, 'an epsilon >= 0');
    const weightDecay = checkNumber(where, 'weightDecay', h.weightDecay ?? defaultWeightDecay, (v) => v >= 0, 'a weight decay >= 0');
    const amsgrad = checkBoolean(where, 'amsgrad', h.amsgrad ?? false);
    const maximize = checkBoolean(where, 'maximize', h.maximize ?? false);
    return { lr, betas: [b1, b2], eps, weightDecay, amsgrad, maximize };
  };
}

abstract class AdamBase extends Optimizer<AdamHyperparams> {
  readonly momentumKind: MomentumKind = 'beta1';
  /** AdamW decays the weights; Adam adds the decay to the gradient. */
  protected abstract readonly decoupled: boolean;

  protected updateGroup(group: ResolvedParamGroup<AdamHyperparams>, params: Tensor[], grads: Tensor[]): void {
    const ops = this.ops;
    const [beta1, beta2] = group.betas;
    const expAvgs: Tensor[] = [];
    const expAvgSqs: Tensor[] = [];
    const maxSqs: Tensor[] = [];
    const steps: number[] = [];
    for (const p of params) {
      const s = this.stateOf(p);
      s.step = (s.step ?? 0) + 1;
      steps.push(s.step);
      expAvgs.push(this.buffer(s.buffers, 'exp_avg', p));
      expAvgSqs.push(this.buffer(s.buffers, 'exp_avg_sq', p));
      if (group.amsgrad) maxSqs.push(this.buffer(s.buffers, 'max_exp_avg_sq', p));
    }
    let g = group.maximize ? ops.neg(grads) : grads;
    if (group.weightDecay !== 0) {
      if (this.decoupled) ops.mulScalar_(params, 1 - group.lr * group.weightDecay);
      else g = ops.add(g, params, group.weightDecay);
    }
    ops.mulScalar_(expAvgs, beta1);
    ops.add_(expAvgs, g, 1 - beta1);
    ops.mulScalar_(expAvgSqs, beta2);
    ops.addcmul_(expAvgSqs, g, g, 1 - beta2);
    if (group.amsgrad) ops.maximum_(maxSqs, expAvgSqs);
    const second = group.amsgrad ? maxSqs : expAvgSqs;
    // Bias corrections depend on each parameter's step count; normally all share one.
    for (const step of new Set(steps)) {
      const idx = steps.flatMap((s, i) => (s === step ? [i] : []));
      const pick = (ts: Tensor[]): Tensor[] => (idx.length === ts.length ? ts : idx.map((i) => ts[i]!));
      const stepSize = group.lr / (1 - powInt(beta1, step));
      const bc2Sqrt = Math.sqrt(1 - powInt(beta2, step));
      const denom = ops.sqrt(pick(second));
      ops.divScalar_(denom, bc2Sqrt);
      ops.addScalar_(denom, group.eps);
      ops.addcdiv_(pick(params), pick(expAvgs), denom, -stepSize);
    }
  }

  protected fusedUpdate(entries: FusedEntry<AdamHyperparams>[]): void {
    fusedAdamStep(
      entries.map(({ group, param, grad }) => {
        const s = this.stateOf(param);
        const step = (s.step ?? 0) + 1;
        s.step = step;
        const [beta1, beta2] = group.betas;
        return {
          param,
          grad,
          expAvg: this.buffer(s.buffers, 'exp_avg', param),
          expAvgSq: this.buffer(s.buffers, 'exp_avg_sq', param),
          maxExpAvgSq: group.amsgrad ? this.buffer(s.buffers, 'max_exp_avg_sq', param) : null,
          weightDecay: this.decoupled ? 0 : group.weightDecay,
          paramScale: this.decoupled ? 1 - group.lr * group.weightDecay : 1,
          beta1,
          beta2,
          eps: group.eps,
          stepSize: group.lr / (1 - powInt(beta1, step)),
          biasCorrection2Sqrt: Math.sqrt(1 - powInt(beta2, step)),
          maximize: group.maximize,
          amsgrad: group.amsgrad,
        };
      }),
    );
  }

  private buffer(buffers: Map<string, Tensor>, name: string, p: Tensor): Tensor {
    let t = buffers.get(name);
    if (t === undefined) {
      t = this.zerosLike(p);
      buffers.set(name, t);
    }
    return t;
  }
}

/**
 * Adam as torch.optim.Adam: L2 weight decay is added to the gradient.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Tensor[] | ParamGroup<AdamHyperparams>[], options: AdamOptions = {}) {
    const { foreach, fused, ...defaults } = options;
    super('Adam', params, defaults, resolver(0), { foreach, fused });
  }
}

/**
 * AdamW as torch.optim.AdamW: weights decay by lr * weightDecay before the Adam step.
 *
 * @example
 * const opt = new AdamW([{ params: body, lr: 1e-4 }, { params: head }], { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Tensor[] | ParamGroup<AdamHyperparams>[], options: AdamOptions = {}) {
    const { foreach, fused, ...defaults } = options;
    super('AdamW', params, defaults, resolver(1e-2), { foreach, fused });
  }
}
