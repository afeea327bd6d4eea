/**
 * The fused optimizer steps of native/core/fused_optim.h: every parameter's Adam(W) or SGD
 * update in one native call and one pass over its memory. src/optim decides what goes here;
 * this file only packs the rows into typed arrays, so no per-parameter objects cross over.
 */
import { native } from '../native/binding.js';
import type { Tensor } from './tensor.js';

const NO_TENSOR = 0xffffffff;

export interface FusedAdamRow {
  param: Tensor;
  grad: Tensor;
  expAvg: Tensor;
  expAvgSq: Tensor;
  /** Only with amsgrad. */
  maxExpAvgSq: Tensor | null;
  /** Adam's L2 term, added to the gradient (0 for AdamW). */
  weightDecay: number;
  /** AdamW's decoupled decay factor 1 - lr * weightDecay (1 for Adam). */
  paramScale: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** lr / (1 - beta1^step) */
  stepSize: number;
  /** sqrt(1 - beta2^step) */
  biasCorrection2Sqrt: number;
  maximize: boolean;
  amsgrad: boolean;
}

export interface FusedSgdRow {
  param: Tensor;
  grad: Tensor;
  /** Only with momentum. */
  momentumBuffer: Tensor | null;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /** The buffer takes this step's direction (PyTorch clones it on the first step). */
  firstStep: boolean;
}

const handleOf = (t: Tensor | null): number => (t === null ? NO_TENSOR : t.handle);
const flag = (b: boolean): number => (b ? 1 : 0);

/**
 * Updates each row's parameter and state in place, as torch.optim.Adam/AdamW would (no autograd).
 * @example
 * fusedAdamStep([{ param: w, grad: w.grad!, expAvg: m, expAvgSq: v, maxExpAvgSq: null, weightDecay: 0, paramScale: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, stepSize: 1e-3 / 0.1, biasCorrection2Sqrt: Math.sqrt(0.001), maximize: false, amsgrad: false }]);
 */
export function fusedAdamStep(rows: FusedAdamRow[]): void {
  const handles = new Uint32Array(rows.length * 5);
  const scalars = new Float64Array(rows.length * 9);
  rows.forEach((r, i) => {
    handles.set([r.param.handle, r.grad.handle, r.expAvg.handle, r.expAvgSq.handle, handleOf(r.maxExpAvgSq)], i * 5);
    scalars.set([r.weightDecay, r.paramScale, r.beta1, r.beta2, r.eps, r.stepSize, r.biasCorrection2Sqrt, flag(r.maximize), flag(r.amsgrad)], i * 9);
  });
  native.fusedAdamStep(handles, scalars);
}

/**
 * Updates each row's parameter and momentum buffer in place, as torch.optim.SGD would.
 * @example
 * fusedSgdStep([{ param: w, grad: w.grad!, momentumBuffer: null, lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, firstStep: false }]);
 */
export function fusedSgdStep(rows: FusedSgdRow[]): void {
  const handles = new Uint32Array(rows.length * 3);
  const scalars = new Float64Array(rows.length * 7);
  rows.forEach((r, i) => {
    handles.set([r.param.handle, r.grad.handle, handleOf(r.momentumBuffer)], i * 3);
    scalars.set([r.lr, r.momentum, r.dampening, r.weightDecay, flag(r.nesterov), flag(r.maximize), flag(r.firstStep)], i * 7);
  });
  native.fusedSgdStep(handles, scalars);
}

/** Whether the fused step can update this parameter: a dense CPU float32 or float64 tensor. */
export function fusedStepSupports(param: Tensor): boolean {
  return native.fusedStepSupports(param.handle);
}
