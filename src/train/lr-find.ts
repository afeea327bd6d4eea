/**
 * fastai's learning-rate finder (Smith 2015, "Cyclical Learning Rates"; fastai's `lr_find`):
 * train for up to `iterations` steps while the learning rate grows exponentially from
 * `startLr` to `endLr`, record the smoothed loss, stop once it explodes, and suggest the rate
 * in the middle of the longest stretch where the loss falls (fastai's default, "valley"). The
 * model comes out as it went in: weights, BatchNorm statistics, gradients and modes are put back.
 */
import { TlcvError } from '../errors.js';
import { F, tidy, type Tensor } from '../tensor/index.js';
import { AdamW } from '../optim/index.js';
import type { Dataset } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import { layOutForPlan, planForward, setTrainingMode, type ExecutionPlan } from '../execution/index.js';
import { Augmenter, parseAugment } from '../transforms/index.js';
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { loaderFor } from './setup.js';
import { ModelSnapshot } from './model-snapshot.js';

export interface LrFindOptions {
  startLr?: number;
  endLr?: number;
  /** Steps at most (default 100, as fastai's). */
  iterations?: number;
  /** Layer groups before this index run in eval mode (the caller froze their weights; default 0). */
  frozenStages?: number;
  /** The plan to run with (default fp32, contiguous). */
  plan?: ExecutionPlan;
  /** Batch size, weight decay, augmentation, label smoothing and seed (other fields are ignored). */
  options?: Partial<TrainOptions>;
}

export interface LrFindResult {
  /** The learning rate of each step, and the smoothed, debiased loss after it. */
  lrs: number[];
  losses: number[];
  /** fastai's "valley" suggestion. */
  suggestion: number;
  /** The rate at the lowest smoothed loss (fastai's lr_min is a tenth of it). */
  minimum: number;
  /** The sweep stopped because the loss exploded (more than 4 times its lowest). */
  diverged: boolean;
  seconds: number;
}

/**
 * fastai's valley: the longest run of falling losses (longest decreasing subsequence), and the
 * rate a little past its first third, where the loss falls steadily and has not turned yet.
 *
 * @example
 * valleySuggestion([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], [2.3, 2.2, 1.5, 1.2, 9]); // 1e-5 (the fall starts at once)
 */
export function valleySuggestion(lrs: number[], losses: number[]): number {
  const n = losses.length;
  if (n === 0) throw new TlcvError('ARGUMENT', 'valleySuggestion: no losses');
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i += 1) {
    for (let j = 0; j < i; j += 1) if (losses[i]! < losses[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
    if (lds[maxEnd]! < lds[i]!) {
      maxEnd = i;
      maxStart = maxEnd - lds[maxEnd]!;
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = Math.min(n - 1, Math.max(0, maxStart + Math.floor(sections) + Math.floor(sections / 2)));
  return lrs[idx]!;
}

const SMOOTHING = 0.98;
const DIVERGENCE = 4;

/**
 * Sweeps learning rates on `train` (see the file comment).
 *
 * @example
 * const r = await lrFind(model, train, { options: { batchSize: 16 } });
 * console.log(r.suggestion);
 */
export async function lrFind(model: ClassifierModel, train: Dataset, o: LrFindOptions = {}): Promise<LrFindResult> {
  const start = o.startLr ?? 1e-7;
  const end = o.endLr ?? 10;
  const iterations = o.iterations ?? 100;
  if (!(start > 0 && end > start)) throw new TlcvError('ARGUMENT', `lr-find: expected 0 < start (${start}) < end (${end})`);
  if (!(Number.isInteger(iterations) && iterations >= 2)) throw new TlcvError('ARGUMENT', `lr-find: expected at least 2 iterations, got ${iterations}`);
  const opts = resolveTrainOptions({ ...o.options, scheduler: 'none' });
  const plan = o.plan ?? { bf16: false, channelsLast: false, device: opts.device };
  const frozen = o.frozenStages ?? 0;
  const stages = model.stages();
  const t0 = performance.now();
  // First: a change of memory format replaces the weight tensors the snapshot refers to.
  layOutForPlan(model, plan);
  const snapshot = new ModelSnapshot(model, { weights: true });
  const opt = new AdamW(model.parameters({ trainableOnly: true }), { lr: start, weightDecay: opts.weightDecay });
  const lrs: number[] = [];
  const losses: number[] = [];
  let avg = 0;
  let best = Infinity;
  let diverged = false;
  try {
    setTrainingMode(model, stages, frozen, true);
    const loader = loaderFor(train, model, opts, { train: true, augment: new Augmenter(parseAugment(opts.augment), opts.seed) });
    for (let epoch = 1; lrs.length < iterations && !diverged; epoch += 1) {
      loader.setEpoch(epoch);
      for await (const b of loader) {
        const lr = start * (end / start) ** (lrs.length / (iterations - 1));
        for (const g of opt.paramGroups) g.lr = lr;
        const loss = step(model, b.x, b.y, plan, opts.labelSmoothing, opt);
        b.x.dispose();
        b.y.dispose();
        avg = SMOOTHING * avg + (1 - SMOOTHING) * loss;
        const smoothed = avg / (1 - SMOOTHING ** (lrs.length + 1));
        lrs.push(lr);
        losses.push(smoothed);
        best = Math.min(best, smoothed);
        if (!Number.isFinite(smoothed) || smoothed > DIVERGENCE * best) diverged = true;
        if (diverged || lrs.length >= iterations) break;
      }
    }
  } finally {
    opt.dispose();
    snapshot.restore();
  }
  // The exploded tail says nothing about where to train.
  const keep = diverged ? lrs.length - 1 : lrs.length;
  const [l, s] = [lrs.slice(0, Math.max(1, keep)), losses.slice(0, Math.max(1, keep))];
  const minimum = l[s.indexOf(Math.min(...s.filter(Number.isFinite)))] ?? start;
  return { lrs, losses, suggestion: valleySuggestion(l, s.map((v) => (Number.isFinite(v) ? v : Infinity))), minimum, diverged, seconds: (performance.now() - t0) / 1000 };
}

function step(model: ClassifierModel, x: Tensor, y: Tensor, plan: ExecutionPlan, labelSmoothing: number, opt: AdamW): number {
  return tidy(() => {
    const loss = tidy(() => F.crossEntropy(planForward(model, x, plan), y, { labelSmoothing }));
    loss.backward();
    const value = loss.item();
    if (Number.isFinite(value)) opt.step();
    opt.zeroGrad();
    return value;
  });
}
