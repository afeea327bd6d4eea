/**
 * A tiny classifier (conv 1->4, pool, linear head on 8x8 input) with the zoo models' surface,
 * for tests that run the real trainer for thousands of steps in seconds.
 */
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from '../../src/models/index.js';
import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, type Module } from '../../src/nn/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { checkDataset, type ImageDataset } from '../../src/data/index.js';

export const TINY_CONFIG: ModelConfig = {
  name: 'tiny-test',
  arch: 'tiny-test',
  inputSize: [1, 8, 8],
  minInputSize: [1, 8, 8],
  mean: [0.5],
  std: [0.5],
  firstConv: 'features.0',
  classifier: 'classifier.1',
  numClasses: 3,
  options: {},
};

/** conv(1->4) relu pool, then flatten and a linear head: two stages, like every zoo model. */
export class TinyNet extends ClassifierModel {
  constructor(config: ModelConfig) {
    super(config);
    this.registerModule('features', new Sequential([new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2)]));
    this.registerModule('classifier', new Sequential([new Flatten(), new Linear(64, config.numClasses)]));
  }
  forwardFeatures(x: Tensor): Tensor {
    return this.child<Sequential>('features').forward(x);
  }
  forwardHead(features: Tensor): Tensor {
    return this.child<Sequential>('classifier').forward(features);
  }
  protected makeClassifier(numClasses: number): Module {
    return new Linear(64, numClasses);
  }
  stages(): Stage[] {
    return [
      chainStage('block1', ['features.0'], this.child<Sequential>('features').children()),
      chainStage('head', ['classifier.1'], this.child<Sequential>('classifier').children()),
    ];
  }
}

/** Images whose brightness encodes the class, so training has something to learn. */
export function tinyDataset(n: number): ImageDataset {
  const images = new Uint8Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p += 1) images[i * 64 + p] = (labels[i]! * 80 + ((i * 31 + p * 17) % 60)) & 255;
  }
  return checkDataset({ name: 'tiny', images, labels, n, channels: 1, height: 8, width: 8, classes: ['a', 'b', 'c'], source: 'test' });
}
