import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

// Bottleneck blocks and the stride-on-3x3 (v1.5) layout, against torchvision at a small input.
test('resnet50 matches torchvision at 3x64x64', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'resnet50', input: [3, 64, 64], batch: 2, numClasses: 10, seed: 11 });
  assert.equal(liveTensors().count, before);
});
