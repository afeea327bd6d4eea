/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay: PyTorch 1.13's update. */
import { argumentError } from '../errors.js';
import { fusedSgdStep, keep, type Tensor } from '../tensor/index.js';
import { Optimizer, checkBoolean, checkNumber, type FusedEntry, type MomentumKind, type OptimizerOptions, type ParamGroup, type ResolvedParamGroup } from './optimizer.js';

export interface SGDHyperparams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export type SGDOptions = Partial<SGDHyperparams> & OptimizerOptions;

const DEFAULTS: Omit<SGDHyperparams, 'lr'> = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

function resolveSgd(h: Partial<SGDHyperparams>, where: string): SGDHyperparams {
  const lr = checkNumber(where, 'lr', h.lr, (v) => v > 0, 'a learning rate > 0');
  const momentum = checkNumber(where, 'momentum', h.momentum ?? DEFAULTS.momentum, (v) => v >= 0, 'a momentum >= 0');
  const dampening = checkNumber(where, 'dampening', h.dampening ?? DEFAULTS.dampening, () => true, 'a finite dampening');
  const weightDecay = checkNumber(where, 'weightDecay', h.weightDecay ?? DEFAULTS.weightDecay, (v) => v >= 0, 'a weight decay >= 0');
  const nesterov = checkBoolean(where, 'nesterov', h.nesterov ?? DEFAULTS.nesterov);
  const maximize = checkBoolean(where, 'maximize', h.maximize ?? DEFAULTS.maximize);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw argumentError(`nesterov of ${where}`, 'momentum > 0 and dampening 0', `momentum ${momentum} and dampening ${dampening}`);
  }
  return { lr, momentum, dampening, weightDecay, nesterov, maximize };
}

/**
 * SGD as torch.optim.SGD (single-tensor form): weight decay is added to the gradient, the
 * momentum buffer starts as the first gradient, and Nesterov looks one step ahead.
 * Parameters without a gradient are skipped.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer<SGDHyperparams> {
  readonly momentumKind: MomentumKind = 'momentum';

  constructor(params: Tensor[] | ParamGroup<SGDHyperparams>[], options: SGDOptions = {}) {
    const { foreach, fused, ...defaults } = options;
    super('SGD', params, defaults, resolveSgd, { foreach, fused });
  }

  protected fusedUpdate(entries: FusedEntry<SGDHyperparams>[]): void {
    fusedSgdStep(
      entries.map(({ group, param, grad }) => {
        let momentumBuffer: Tensor | null = null;
        let firstStep = false;
        if (group.momentum !== 0) {
          const s = this.stateOf(param);
          momentumBuffer = s.buffers.get('momentum_buffer') ?? null;
          if (momentumBuffer === null) {
            // Filled with this step's direction by the kernel, as PyTorch clones it.
            momentumBuffer = this.zerosLike(param);
            s.buffers.set('momentum_buffer', momentumBuffer);
            firstStep = true;
          }
        }
        const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
        return { param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov, maximize, firstStep };
      }),
    );
  }

  protected updateGroup(group: ResolvedParamGroup<SGDHyperparams>, params: Tensor[], grads: Tensor[]): void {
    const ops = this.ops;
    let dp = group.maximize ? ops.neg(grads) : grads;
    if (group.weightDecay !== 0) dp = ops.add(dp, params, group.weightDecay);
    if (group.momentum !== 0) {
      const bufs: Tensor[] = [];
      const old: Tensor[] = [];
      const oldDp: Tensor[] = [];
      params.forEach((p, i) => {
        const s = this.stateOf(p);
        let buf = s.buffers.get('momentum_buffer');
        if (buf === undefined) {
          // First step: the buffer is a copy of this step's direction, with no decay applied.
          buf = keep(ops.clone([dp[i]!])[0]!);
          s.buffers.set('momentum_buffer', buf);
        } else {
          old.push(buf);
          oldDp.push(dp[i]!);
        }
        bufs.push(buf);
      });
      if (old.length > 0) {
        ops.mulScalar_(old, group.momentum);
        ops.add_(old, oldDp, 1 - group.dampening);
      }
      dp = group.nesterov ? ops.add(dp, bufs, group.momentum) : bufs;
    }
    ops.add_(params, dp, -group.lr);
  }
}
