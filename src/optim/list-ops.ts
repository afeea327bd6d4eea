/**
 * Element-wise updates over lists of tensors, in two interchangeable forms, so each
 * optimizer's update is written once.
 *
 * `foreachOps` calls libtorch's `_foreach_*` ops: one boundary crossing per list instead
 * of one per tensor. On CPU each `_foreach_*` kernel loops over the same per-tensor op
 * (`t.add_(o, alpha)`, `t.addcdiv_(a, b, v)`, ...), so both forms give bit-identical
 * results and either matches PyTorch's single-tensor optimizers exactly. `loopOps` is used
 * with one-element lists when parameters are updated one at a time (the default).
 */
import { invoke, invokeInPlace } from '../tensor/invoke.js';
import type { Tensor } from '../tensor/index.js';

export interface ListOps {
  /** -t for each t (new tensors). */
  neg(ts: Tensor[]): Tensor[];
  /** t + alpha * o for each pair (new tensors). */
  add(ts: Tensor[], others: Tensor[], alpha: number): Tensor[];
  /** Copies that keep each tensor's memory format. */
  clone(ts: Tensor[]): Tensor[];
  sqrt(ts: Tensor[]): Tensor[];
  /** t *= s */
  mulScalar_(ts: Tensor[], s: number): void;
  /** t += alpha * o */
  add_(ts: Tensor[], others: Tensor[], alpha: number): void;
  /** t += s */
  addScalar_(ts: Tensor[], s: number): void;
  /** t /= s */
  divScalar_(ts: Tensor[], s: number): void;
  /** t += v * a * b */
  addcmul_(ts: Tensor[], a: Tensor[], b: Tensor[], v: number): void;
  /** t += v * a / b */
  addcdiv_(ts: Tensor[], a: Tensor[], b: Tensor[], v: number): void;
  /** t = max(t, o), NaN-propagating as torch.maximum. */
  maximum_(ts: Tensor[], others: Tensor[]): void;
}

export const foreachOps: ListOps = {
  neg: (ts) => invoke('_foreach_neg', [ts]) as Tensor[],
  add: (ts, others, alpha) => invoke('_foreach_add.List', [ts, others, alpha]) as Tensor[],
  clone: (ts) => ts.map((t) => invoke('clone', [t]) as Tensor),
  sqrt: (ts) => invoke('_foreach_sqrt', [ts]) as Tensor[],
  mulScalar_: (ts, s) => invokeInPlace('_foreach_mul_.Scalar', [ts, s]),
  add_: (ts, others, alpha) => invokeInPlace('_foreach_add_.List', [ts, others, alpha]),
  addScalar_: (ts, s) => invokeInPlace('_foreach_add_.Scalar', [ts, s]),
  divScalar_: (ts, s) => invokeInPlace('_foreach_div_.Scalar', [ts, s]),
  addcmul_: (ts, a, b, v) => invokeInPlace('_foreach_addcmul_.Scalar', [ts, a, b, v]),
  addcdiv_: (ts, a, b, v) => invokeInPlace('_foreach_addcdiv_.Scalar', [ts, a, b, v]),
  maximum_: (ts, others) => invokeInPlace('_foreach_maximum_.List', [ts, others]),
};

export const loopOps: ListOps = {
  neg: (ts) => ts.map((t) => invoke('neg', [t]) as Tensor),
  add: (ts, others, alpha) => ts.map((t, i) => invoke('add.Tensor', [t, others[i], alpha]) as Tensor),
  clone: (ts) => ts.map((t) => invoke('clone', [t]) as Tensor),
  sqrt: (ts) => ts.map((t) => invoke('sqrt', [t]) as Tensor),
  mulScalar_: (ts, s) => ts.forEach((t) => invokeInPlace('mul_.Scalar', [t, s])),
  add_: (ts, others, alpha) => ts.forEach((t, i) => invokeInPlace('add_.Tensor', [t, others[i], alpha])),
  addScalar_: (ts, s) => ts.forEach((t) => invokeInPlace('add_.Scalar', [t, s, 1])),
  divScalar_: (ts, s) => ts.forEach((t) => invokeInPlace('div_.Scalar', [t, s])),
  addcmul_: (ts, a, b, v) => ts.forEach((t, i) => invokeInPlace('addcmul_', [t, a[i], b[i], v])),
  addcdiv_: (ts, a, b, v) => ts.forEach((t, i) => invokeInPlace('addcdiv_', [t, a[i], b[i], v])),
  maximum_: (ts, others) => ts.forEach((t, i) => invokeInPlace('maximum.out', [t, others[i], t])),
};
