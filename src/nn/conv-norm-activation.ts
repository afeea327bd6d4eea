/** torchvision.ops.Conv2dNormActivation: the conv, BatchNorm, activation triple of modern CNNs. */
import { BatchNorm2d, type BatchNorm2dOptions } from './batchnorm.js';
import { Conv2d } from './conv.js';
import type { Module } from './module.js';
import { Sequential } from './sequential.js';

export interface ConvNormActivationOptions {
  stride?: number;
  groups?: number;
  dilation?: number;
  /** The BatchNorm's eps and momentum (MobileNetV3: 0.001 and 0.01). */
  norm?: BatchNorm2dOptions;
  /** Makes the activation after the BatchNorm; null for none (a projection). */
  activation: (() => Module) | null;
}

/**
 * A Sequential of Conv2d (no bias, 'same' padding for odd kernels: (k - 1) / 2 * dilation),
 * BatchNorm2d and the activation, as children '0', '1', '2': torchvision's
 * Conv2dNormActivation with its default BatchNorm, so the state-dict keys are torchvision's.
 *
 * @example
 * const stem = conv2dNormActivation(3, 32, 3, { stride: 2, activation: () => new SiLU(true) });
 */
export function conv2dNormActivation(inChannels: number, outChannels: number, kernelSize: number, o: ConvNormActivationOptions): Sequential {
  const dilation = o.dilation ?? 1;
  const padding = Math.floor((kernelSize - 1) / 2) * dilation;
  const layers: Module[] = [
    new Conv2d(inChannels, outChannels, kernelSize, { stride: o.stride ?? 1, padding, dilation, groups: o.groups ?? 1, bias: false }),
    new BatchNorm2d(outChannels, o.norm),
  ];
  if (o.activation !== null) layers.push(o.activation());
  return new Sequential(layers);
}
