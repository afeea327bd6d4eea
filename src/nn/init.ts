/**
 * Weight initialisers, computed exactly as torch.nn.init computes them (same fan rules, same
 * gain formulas in double precision, same in-place ops on the global generator). Because the
 * draws and their order match, `manualSeed(s)` followed by building a model gives the same
 * weights as PyTorch building the same model after `torch.manual_seed(s)`.
 */
import { TlcvError } from '../errors.js';
import { invoke, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';
export type FanMode = 'fan_in' | 'fan_out';

/** fan_in and fan_out of a weight, as torch.nn.init._calculate_fan_in_and_fan_out defines them. */
export function fanInAndOut(t: Tensor): { fanIn: number; fanOut: number } {
  const shape = t.shape;
  if (shape.length < 2) throw new TlcvError('ARGUMENT', `Expected a weight with at least 2 dims for fan-in/fan-out but received shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
  }
}

/** Fills `t` from U(low, high) in place. */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  // The op returns an alias of t; its handle is released at once.
  noGrad(() => (invoke('uniform_', [t, low, high, null]) as Tensor).dispose());
  return t;
}

/** Fills `t` from N(mean, std²) in place. */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  noGrad(() => (invoke('normal_', [t, mean, std, null]) as Tensor).dispose());
  return t;
}

export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU after this layer (PyTorch's `a`). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = fanInAndOut(t);
  const fan = (o.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

/**
 * He uniform init. `kaimingUniform_(w, { a: Math.sqrt(5) })` is PyTorch's default for Conv2d
 * and Linear weights.
 *
 * @example
 * kaimingUniform_(conv.weight, { a: Math.sqrt(5) });
 */
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3.0) * kaimingStd(t, o);
  return uniform_(t, -bound, bound);
}

/**
 * He normal init, as torchvision's ResNet and MobileNetV2 use it (`mode: 'fan_out'`).
 *
 * @example
 * kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
 */
export function kaimingNormal_(t: Tensor, o: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, o));
}

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndOut(t);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(t, -a, a);
}

export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = fanInAndOut(t);
  return normal_(t, 0, gain * Math.sqrt(2.0 / (fanIn + fanOut)));
}

/** PyTorch's default bias init for Conv2d/Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of the weight. */
export function defaultBias_(bias: Tensor, weight: Tensor): Tensor {
  const { fanIn } = fanInAndOut(weight);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform_(bias, -bound, bound);
}

/** math.erf in double precision: libm's, through libtorch's float64 kernel (the one Python's math.erf calls). */
function erf(x: number): number {
  return tidy(() => (invoke('erf', [tensor([x], { dtype: 'float64' })]) as Tensor).item());
}

/**
 * Fills `t` from N(mean, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_
 * takes them: -2 and 2 by default), with torch's own inverse-CDF method and draws: one uniform_
 * over the bounds' CDF range, erfinv_, scale, shift, clamp. ConvNeXt and the ViTs init with it.
 *
 * @example
 * truncNormal_(linear.weight, 0, 0.02);
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  const normCdf = (x: number): number => (1 + erf(x / Math.sqrt(2))) / 2;
  const l = normCdf((a - mean) / std);
  const u = normCdf((b - mean) / std);
  noGrad(() => {
    uniform_(t, 2 * l - 1, 2 * u - 1);
    (invoke('erfinv_', [t]) as Tensor).dispose();
    t.mul_(std * Math.sqrt(2));
    t.add_(mean);
    t.clamp_(a, b);
  });
  return t;
}
