/** Functional CNN ops, named and defaulted as torch.nn.functional names them. */
import { argumentError } from '../errors.js';
import { isFloating } from './dtype.js';
import { invoke, invokeInPlace } from './invoke.js';
import type { Tensor } from './tensor.js';
import { checkOneOf, checkProbability, mismatchError } from './validate.js';

/** One size for both spatial dims, or [height, width]. */
export type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-d convolution of input [N, C, H, W] (or [C, H, W]) with weight [out, C / groups, kH, kW].
 * @example F.conv2d(x, w, b, { stride: 2, padding: 1 })
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  // libtorch blames the stride ("expected stride to be ... a list of 1 values") for a weight of the wrong rank.
  if (weight.ndim !== 4) throw mismatchError('weight', 'a 4-d tensor [outChannels, inChannels / groups, kH, kW]', `shape [${weight.shape.join(', ')}]`);
  if (input.ndim !== 4 && input.ndim !== 3) throw mismatchError('input', 'a 4-d tensor [N, C, H, W] or a 3-d one [C, H, W]', `shape [${input.shape.join(', ')}]`);
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
  checkProbability('p', p);
  return invoke('dropout', [input, p, training]) as Tensor;
}

export const relu = (x: Tensor): Tensor => invoke('relu', [x]) as Tensor;
/** In place, as torchvision's ReLU(inplace=True): for a tensor nothing else reads, such as a BatchNorm's output. */
export const relu_ = (x: Tensor): Tensor => {
  invokeInPlace('relu_', [x]);
  return x;
};
/**
 * relu6 is hardtanh(0, 6), exactly as PyTorch defines it. libtorch 1.13 has no bf16 CPU kernel
 * for hardtanh's backward (bf16 autocast training of MobileNetV2 fails in PyTorch 1.13), so a
 * bf16 input that needs a gradient is clamped in float32: the same values, since clamping a
 * bf16 number to [0, 6] is exact.
 */
export const relu6 = (x: Tensor): Tensor => {
  if (x.dtype === 'bfloat16' && x.device === 'cpu' && x.requiresGrad) return (invoke('hardtanh', [x.float(), 0, 6]) as Tensor).to('bfloat16');
  return invoke('hardtanh', [x, 0, 6]) as Tensor;
};
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => invoke('leaky_relu', [x, slope]) as Tensor;
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor =>
  invoke('gelu', [x, checkOneOf('approximate', approximate, ['none', 'tanh'])]) as Tensor;
/**
 * Layer normalisation over the trailing dims given by `normalizedShape` (torch.nn.functional.layer_norm).
 * libtorch 1.13's CPU kernel refuses a bf16 or fp16 input with float32 weights, which is what bf16
 * autocast hands a LayerNorm after a convolution (PyTorch 1.13 fails on ConvNeXt so); such an
 * input is normalised in float32 and the result cast back, as PyTorch 2's mixed-type kernel does.
 * @example F.layerNorm(tokens, [768], w, b, 1e-6)
 */
export function layerNorm(input: Tensor, normalizedShape: number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const affine = weight ?? bias;
  if (affine !== null && affine.dtype !== input.dtype && (input.dtype === 'bfloat16' || input.dtype === 'float16')) {
    return (invoke('layer_norm', [input.float(), normalizedShape, weight?.float() ?? null, bias?.float() ?? null, eps, true]) as Tensor).to(input.dtype);
  }
  return invoke('layer_norm', [input, normalizedShape, weight, bias, eps, true]) as Tensor;
}
export const sigmoid = (x: Tensor): Tensor => invoke('sigmoid', [x]) as Tensor;
/** x * sigmoid(x) (Swish), as EfficientNet uses it. */
export const silu = (x: Tensor): Tensor => invoke('silu', [x]) as Tensor;
/** In place, as torchvision's SiLU(inplace=True): for a tensor nothing else reads. */
export const silu_ = (x: Tensor): Tensor => {
  invokeInPlace('silu_', [x]);
  return x;
};
/** x * relu6(x + 3) / 6, MobileNetV3's piecewise-linear Swish. */
export const hardswish = (x: Tensor): Tensor => invoke('hardswish', [x]) as Tensor;
/** In place, as torchvision's Hardswish(inplace=True). */
export const hardswish_ = (x: Tensor): Tensor => {
  invokeInPlace('hardswish_', [x]);
  return x;
};
/** relu6(x + 3) / 6, MobileNetV3's piecewise-linear sigmoid. */
export const hardsigmoid = (x: Tensor): Tensor => invoke('hardsigmoid', [x]) as Tensor;
/** In place, as torchvision's Hardsigmoid(inplace=True). */
export const hardsigmoid_ = (x: Tensor): Tensor => {
  invokeInPlace('hardsigmoid_', [x]);
  return x;
};
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

const reductionCode = (r: Reduction | undefined): number => REDUCTION[checkOneOf('reduction', r ?? 'mean', ['none', 'mean', 'sum'])];

/**
 * Checks the target against the logits' shape, as libtorch's message ("0D or 1D target tensor
 * expected") says neither what shape was wanted nor which tensor was wrong.
 */
function checkTarget(input: Tensor, target: Tensor): void {
  const shape = input.shape;
  const classIndexShape = shape.length === 1 ? [] : [shape[0]!, ...shape.slice(2)];
  const got = target.shape;
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  if (isFloating(target.dtype) ? same(got, shape) : same(got, classIndexShape)) return;
  throw mismatchError(
    'target',
    `class indices (an integer tensor of shape [${classIndexShape.join(', ')}]) or probabilities (a float tensor of shape [${shape.join(', ')}])`,
    `a ${target.dtype} tensor of shape [${got.join(', ')}]`,
  );
}

/**
 * Cross entropy of logits [N, C, ...] against class indices or class probabilities.
 * @example F.crossEntropy(logits, labels, { labelSmoothing: 0.1 })
 */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const ls = o.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) throw argumentError('labelSmoothing', 'a number in [0, 1]', ls);
  checkTarget(logits, target);
  return invoke('cross_entropy_loss', [logits, target, o.weight ?? null, reductionCode(o.reduction), o.ignoreIndex ?? -100, ls]) as Tensor;
}

export function nllLoss(logProbs: Tensor, target: Tensor, o: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  return invoke('nll_loss', [logProbs, target, o.weight ?? null, reductionCode(o.reduction), o.ignoreIndex ?? -100]) as Tensor;
}

export interface InterpolateOptions {
  size?: [number, number];
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear' | 'bicubic';
  alignCorners?: boolean;
}

export function interpolate(input: Tensor, o: InterpolateOptions): Tensor {
  const size = o.size ?? null;
  const scales = o.scaleFactor === undefined ? null : typeof o.scaleFactor === 'number' ? [o.scaleFactor, o.scaleFactor] : o.scaleFactor;
  if (size === null && scales === null) throw argumentError('interpolate options', 'size or scaleFactor', o);
  const mode = checkOneOf('mode', o.mode ?? 'nearest', ['nearest', 'bilinear', 'bicubic']);
  if (mode === 'nearest') return invoke('upsample_nearest2d.vec', [input, size, scales]) as Tensor;
  return invoke(`upsample_${mode}2d.vec`, [input, size, o.alignCorners ?? false, scales]) as Tensor;
}

/** Pads the last dims: pad = [left, right, top, bottom, ...] as F.pad takes it. */
export function pad(input: Tensor, padding: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (checkOneOf('mode', mode, ['constant', 'reflect', 'replicate']) === 'constant') return invoke('constant_pad_nd', [input, padding, value]) as Tensor;
  const dims = padding.length / 2;
  if (!(dims === 1 || dims === 2 || dims === 3)) throw argumentError('padding', `2, 4 or 6 numbers for mode '${mode}'`, padding);
  return invoke(`${mode === 'reflect' ? 'reflection' : 'replication'}_pad${dims}d`, [input, padding]) as Tensor;
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
  const mode = checkOneOf('mode', o.mode ?? 'bilinear', ['bilinear', 'nearest', 'bicubic']);
  const padding = checkOneOf('paddingMode', o.paddingMode ?? 'zeros', ['zeros', 'border', 'reflection']);
  return invoke('grid_sampler', [input, grid, INTERP[mode], PADDING[padding], o.alignCorners ?? false]) as Tensor;
}

export const flip = (x: Tensor, dims: number[]): Tensor => invoke('flip', [x, dims]) as Tensor;
