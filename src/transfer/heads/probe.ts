/**
 * A linear probe: multinomial logistic regression on frozen features, fitted full batch with
 * L-BFGS, its L2 strength chosen on a held-out part of the support set. This is CLIP's
 * linear-probe protocol (Radford et al., 2021), which uses scikit-learn's L-BFGS logistic
 * regression with a sweep of its regularisation; here the fit stays in libtorch, in float64.
 *
 * Features are standardised per dimension for the fit (L-BFGS and one L2 grid then suit any
 * backbone's feature scale); the standardisation is folded into the returned Linear weights.
 */
import { TlcvError, argumentError } from '../../errors.js';
import { F, fromTypedArray, keep, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { Rng } from '../../data/index.js';
import { LBFGS } from '../../optim/lbfgs.js';
import { countClasses } from './ncm.js';

export interface ProbeOptions {
  /** L2 strengths λ to try; the loss is mean cross-entropy + λ/2 ||W||² (the bias is not penalised). */
  lambdas?: number[];
  /** Share of each class held out to choose λ (at least one image of each class stays in training). */
  valFraction?: number;
  /** Seeds the held-out split. */
  seed?: number;
  /** L-BFGS iterations per fit. */
  maxIter?: number;
}

export interface ProbeSweepRow {
  lambda: number;
  valAccuracy: number;
  valLoss: number;
}

export interface ProbeResult {
  /** [C, D] and [C], acting on raw features: install with installLinearHead. */
  weight: Tensor;
  bias: Tensor;
  /** The λ of the final fit (on the whole support set). */
  lambda: number;
  /** Held-out results per λ, in the order tried; empty when no image could be held out. */
  sweep: ProbeSweepRow[];
  /** The final fit's loss and L-BFGS iterations. */
  loss: number;
  iterations: number;
}

/** 10^-6 ... 10^0: CLIP's sweep starts from a log grid; seven decades cover features standardised to unit variance. */
export const PROBE_LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
const PROBE_STREAM = 0x9b0be;

/** Per-class held-out split: positions to train on and to validate on, both in ascending order. */
export function probeSplit(labels: Int32Array, numClasses: number, valFraction: number, seed: number): { train: Int32Array; val: Int32Array } {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((y, i) => byClass[y]!.push(i));
  const rng = new Rng(seed, PROBE_STREAM);
  const train: number[] = [];
  const val: number[] = [];
  for (const members of byClass) {
    const order = rng.shuffle([...members]);
    const held = Math.min(Math.floor(members.length * valFraction), members.length - 1);
    val.push(...order.slice(0, held));
    train.push(...order.slice(held));
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), val: Int32Array.from(val.sort((a, b) => a - b)) };
}

interface Fit {
  weight: Tensor;
  bias: Tensor;
  loss: number;
  iterations: number;
}

/** Fits W, b on standardised features x [N, D] (float64) by L-BFGS; returns kept tensors. */
function fitLogistic(x: Tensor, y: Tensor, numClasses: number, lambda: number, maxIter: number): Fit {
  const weight = keep(zeros([numClasses, x.size(1)], { dtype: 'float64' })).requiresGrad_();
  const bias = keep(zeros([numClasses], { dtype: 'float64' })).requiresGrad_();
  const opt = new LBFGS([weight, bias], { maxIter, maxEval: maxIter * 2, lineSearch: 'strong-wolfe', historySize: 20 });
  const objective = (): Tensor => F.crossEntropy(F.linear(x, weight, bias), y).add(weight.pow(2).sum().mul(lambda / 2));
  try {
    opt.step(() => {
      weight.grad = null;
      bias.grad = null;
      return tidy(() => {
        const l = objective();
        l.backward();
        return l.item();
      });
    });
  } finally {
    opt.dispose();
    weight.grad = null;
    bias.grad = null;
  }
  weight.requiresGrad_(false);
  bias.requiresGrad_(false);
  return { weight, bias, loss: tidy(() => objective().item()), iterations: opt.iterations };
}

function heldOut(fit: Fit, x: Tensor, y: Tensor, lambda: number): ProbeSweepRow {
  return tidy(() => {
    const logits = F.linear(x, fit.weight, fit.bias);
    return { lambda, valAccuracy: logits.argmax(1).eq(y).float().mean().item(), valLoss: F.crossEntropy(logits, y).item() };
  });
}

/** Highest held-out accuracy; then lowest held-out loss; then the stronger λ. */
function better(a: ProbeSweepRow, b: ProbeSweepRow): boolean {
  if (a.valAccuracy !== b.valAccuracy) return a.valAccuracy > b.valAccuracy;
  if (a.valLoss !== b.valLoss) return a.valLoss < b.valLoss;
  return a.lambda > b.lambda;
}

/**
 * Fits a linear probe on support features [N, D]; returns tensors the caller owns.
 *
 * @example
 * const probe = fitProbe(support.features, support.labels, classes.length, { seed: 1 });
 * installLinearHead(model, probe.weight, probe.bias);
 * console.log(`λ = ${probe.lambda}`, probe.sweep);
 */
export function fitProbe(features: Tensor, labels: Int32Array, numClasses: number, o: ProbeOptions = {}): ProbeResult {
  if (features.ndim !== 2) throw new TlcvError('ARGUMENT', `Expected support features [N, D] but received shape [${features.shape.join(', ')}]`);
  countClasses(labels, numClasses, features.size(0), 'probe');
  const lambdas = o.lambdas ?? PROBE_LAMBDAS;
  if (lambdas.length === 0 || !lambdas.every((l) => l >= 0 && Number.isFinite(l))) throw argumentError('lambdas', 'one or more non-negative numbers', lambdas);
  const valFraction = o.valFraction ?? 0.2;
  if (!(valFraction >= 0 && valFraction < 1)) throw argumentError('valFraction', 'a fraction in [0, 1)', valFraction);
  const maxIter = o.maxIter ?? 1000;
  const split = probeSplit(labels, numClasses, valFraction, o.seed ?? 0);
  const result = tidy(() => {
    const raw = features.to('float64');
    const mean = raw.mean(0);
    // Constant dimensions (a dead ReLU) keep scale 1 rather than dividing by zero.
    const std = raw.std(0, false).clamp(1e-6);
    const x = raw.sub(mean).div(std);
    const y = fromTypedArray(labels, [labels.length]).long();
    const sweep: ProbeSweepRow[] = [];
    if (lambdas.length > 1 && split.val.length > 0) {
      const pick = (idx: Int32Array): Tensor => fromTypedArray(idx, [idx.length]).long();
      const [xTrain, yTrain] = [x.indexSelect(0, pick(split.train)), y.indexSelect(0, pick(split.train))];
      const [xVal, yVal] = [x.indexSelect(0, pick(split.val)), y.indexSelect(0, pick(split.val))];
      for (const lambda of lambdas) {
        const fit = fitLogistic(xTrain, yTrain, numClasses, lambda, maxIter);
        sweep.push(heldOut(fit, xVal, yVal, lambda));
        fit.weight.dispose();
        fit.bias.dispose();
      }
    }
    // Without a sweep: the one λ given, or the middle of the grid.
    const lambda = sweep.length > 0 ? sweep.reduce((best, r) => (better(r, best) ? r : best)).lambda : lambdas[Math.floor(lambdas.length / 2)]!;
    const final = fitLogistic(x, y, numClasses, lambda, maxIter);
    const weight = final.weight.div(std);
    const bias = final.bias.sub(weight.matmul(mean));
    final.weight.dispose();
    final.bias.dispose();
    return { weight: weight.float(), bias: bias.float(), lambda, sweep, loss: final.loss, iterations: final.iterations };
  });
  keep(result.weight);
  keep(result.bias);
  return result;
}
