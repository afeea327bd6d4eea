/**
 * Conv2d + BatchNorm2d folding: an eval-mode BatchNorm is a per-channel affine map, so it can
 * be folded into the weights and bias of the conv before it. Eager PyTorch does not do this;
 * torch.jit.freeze and ONNX Runtime do. The ONNX exporter folds with this same function.
 */
import { TlcvError } from '../errors.js';
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';

/**
 * The weight and bias of a conv that computes bn(conv(x)) with `bn` in eval mode (its running
 * statistics): weight * s and (bias - mean) * s + beta per output channel, with
 * s = gamma / sqrt(var + eps). Computed in float64 without autograd and rounded once to the
 * conv weight's dtype; contiguous. The bias is returned even when the conv has none. The
 * tensors are new and the caller's to dispose; conv and bn are unchanged.
 *
 * @example
 * const { weight, bias } = foldConvBn(model.getSubmodule('conv1') as Conv2d, model.getSubmodule('bn1') as BatchNorm2d);
 */
export function foldConvBn(conv: Conv2d, bn: BatchNorm2d): { weight: Tensor; bias: Tensor } {
  if (bn.numFeatures !== conv.outChannels) {
    throw new TlcvError('MODEL', `cannot fold a BatchNorm2d over ${bn.numFeatures} channels into a Conv2d with ${conv.outChannels} output channels`);
  }
  const mean = bn.runningMean;
  const variance = bn.runningVar;
  if (mean === null || variance === null) throw new TlcvError('MODEL', 'cannot fold a BatchNorm2d without running statistics (trackRunningStats false) into a conv');
  const dtype = conv.weight.dtype;
  return noGrad(() =>
    tidy(() => {
      const n = conv.outChannels;
      const f64 = (t: Tensor): Tensor => t.detach().to('float64');
      const gamma = bn.weight === null ? null : f64(bn.weight);
      const beta = bn.bias === null ? null : f64(bn.bias);
      const std = f64(variance).add(bn.eps).sqrt();
      const scale = gamma === null ? std.pow(-1) : gamma.div(std);
      const weight = f64(conv.weight).mul(scale.reshape([n, 1, 1, 1])).to(dtype).contiguous();
      const convBias = conv.bias === null ? null : f64(conv.bias);
      let bias = (convBias === null ? f64(mean).neg() : convBias.sub(f64(mean))).mul(scale);
      if (beta !== null) bias = bias.add(beta);
      return { weight: weight.keep(), bias: bias.to(dtype).keep() };
    }),
  );
}
