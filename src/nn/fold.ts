/**
 * Folding an eval-mode BatchNorm2d into the conv before it, as exporters do: the pair becomes
 * one conv whose output equals bn(conv(x)) with running statistics.
 */
import { TlcvError } from '../errors.js';
import { noGrad, tidy, zeros, type Tensor } from '../tensor/index.js';
import type { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';

/**
 * The weight [out, in/groups, kH, kW] and bias [out] of one conv equal to `bn(conv(x))` in eval
 * mode. The tensors are new and owned by the caller; they are computed without grad, in float32
 * or the conv's dtype, and the bias is there even when the conv has none.
 *
 * @example
 * const { weight, bias } = foldConvBn(block.conv1, block.bn1);
 */
export function foldConvBn(conv: Conv2d, bn: BatchNorm2d): { weight: Tensor; bias: Tensor } {
  const mean = bn.runningMean;
  const variance = bn.runningVar;
  if (mean === null || variance === null) throw new TlcvError('MODEL', 'cannot fold a BatchNorm2d without running statistics into its conv');
  if (bn.numFeatures !== conv.outChannels) {
    throw new TlcvError('MODEL', `cannot fold a BatchNorm2d of ${bn.numFeatures} features into a conv with ${conv.outChannels} output channels`);
  }
  return noGrad(() =>
    tidy(() => {
      // scale = gamma / sqrt(var + eps); w' = w * scale; b' = (b - mean) * scale + beta
      let scale = variance.add(bn.eps).unary('rsqrt');
      if (bn.weight !== null) scale = scale.mul(bn.weight);
      const weight = conv.weight.mul(scale.reshape([-1, 1, 1, 1]));
      let bias = (conv.bias ?? zeros([conv.outChannels], { dtype: conv.weight.dtype })).sub(mean).mul(scale);
      if (bn.bias !== null) bias = bias.add(bn.bias);
      return { weight, bias };
    }),
  );
}
