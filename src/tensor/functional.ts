/** Functional CNN ops, named and defaulted as torch.nn.functional names them. */
import { argumentError } from '../errors.js';
import { invoke } from './invoke.js';
import type { Tensor } from './tensor.js';

type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return invoke('conv2d', [input, weight, bias, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1]) as Tensor;
}

export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return invoke('linear', [input, weight, bias]) as Tensor;
}

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export function maxPool2d(input: Tensor, kernelSize: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return invoke('max_pool2d', [input, kernelSize, o.stride ?? kernelSize, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false]) as Tensor;
}

export function avgPool2d(input: Tensor, kernelSize: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  return invoke('avg_pool2d', [input, kernelSize, o.stride ?? kernelSize, o.padding ?? 0, o.ceilMode ?? false, o.countIncludePad ?? true, null]) as Tensor;
}

export function adaptiveAvgPool2d(input: Tensor, outputSize: Pair): Tensor {
  return invoke('adaptive_avg_pool2d', [input, outputSize]) as Tensor;
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  training: boolean;
  momentum?: number;
  eps?: number;
}

/** In training mode, running statistics are updated in place (as PyTorch does). */
export function batchNorm(input: Tensor, o: BatchNormOptions): Tensor {
  return invoke('batch_norm', [
    input,
    o.weight ?? null,
    o.bias ?? null,
    o.runningMean ?? null,
    o.runningVar ?? null,
    o.training,
    o.momentum ?? 0.1,
    o.eps ?? 1e-5,
    true,
  ]) as Tensor;
}

export function dropout(input: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) throw argumentError('p', 'a probability in [0, 1]', p);
  return invoke('dropout', [input, p, training]) as Tensor;
}

export const relu = (x: Tensor): Tensor => invoke('relu', [x]) as Tensor;
/** relu6 is hardtanh(0, 6), exactly as PyTorch defines it. */
export const relu6 = (x: Tensor): Tensor => invoke('hardtanh', [x, 0, 6]) as Tensor;
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => invoke('leaky_relu', [x, slope]) as Tensor;
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => invoke('gelu', [x, approximate]) as Tensor;
export const sigmoid = (x: Tensor): Tensor => invoke('sigmoid', [x]) as Tensor;
export const tanh = (x: Tensor): Tensor => invoke('tanh', [x]) as Tensor;
export const softmax = (x: Tensor, dim: number): Tensor => invoke('softmax.int', [x, dim]) as Tensor;
export const logSoftmax = (x: Tensor, dim: number): Tensor => invoke('log_softmax.int', [x, dim]) as Tensor;

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const ls = o.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw argumentError('labelSmoothing', 'a number in [0, 1]', ls);
  return invoke('cross_entropy_loss', [logits, target, o.weight ?? null, REDUCTION[o.reduction ?? 'mean'], o.ignoreIndex ?? -100, ls]) as Tensor;
}

export function nllLoss(logProbs: Tensor, target: Tensor, o: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  return invoke('nll_loss', [logProbs, target, o.weight ?? null, REDUCTION[o.reduction ?? 'mean'], o.ignoreIndex ?? -100]) as Tensor;
}

export interface InterpolateOptions {
  size?: [number, number];
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

export function interpolate(input: Tensor, o: InterpolateOptions): Tensor {
  const size = o.size ?? null;
  const scales = o.scaleFactor === undefined ? null : typeof o.scaleFactor === 'number' ? [o.scaleFactor, o.scaleFactor] : o.scaleFactor;
  if (size === null && scales === null) throw argumentError('interpolate options', 'size or scaleFactor', o);
  if ((o.mode ?? 'nearest') === 'nearest') return invoke('upsample_nearest2d.vec', [input, size, scales]) as Tensor;
  return invoke('upsample_bilinear2d.vec', [input, size, o.alignCorners ?? false, scales]) as Tensor;
}

/** Pads the last dims: pad = [left, right, top, bottom, ...] as F.pad takes it. */
export function pad(input: Tensor, padding: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (mode === 'constant') return invoke('constant_pad_nd', [input, padding, value]) as Tensor;
  return invoke(mode === 'reflect' ? 'reflection_pad2d' : 'replication_pad2d', [input, padding]) as Tensor;
}

/** theta: [N, 2, 3]; size: [N, C, H, W]. */
export function affineGrid(theta: Tensor, size: number[], alignCorners = false): Tensor {
  return invoke('affine_grid_generator', [theta, size, alignCorners]) as Tensor;
}

const INTERP = { bilinear: 0, nearest: 1, bicubic: 2 } as const;
const PADDING = { zeros: 0, border: 1, reflection: 2 } as const;

export function gridSample(
  input: Tensor,
  grid: Tensor,
  o: { mode?: keyof typeof INTERP; paddingMode?: keyof typeof PADDING; alignCorners?: boolean } = {},
): Tensor {
  return invoke('grid_sampler', [input, grid, INTERP[o.mode ?? 'bilinear'], PADDING[o.paddingMode ?? 'zeros'], o.alignCorners ?? false]) as Tensor;
}

export const flip = (x: Tensor, dims: number[]): Tensor => invoke('flip', [x, dims]) as Tensor;
