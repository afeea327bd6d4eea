import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

// Weights, input and outputs come from torchvision (test/peer/models_parity.py) in this run.
test('seed-cnn matches the spec model in PyTorch: init, eval logits, gradients, dropout', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'seed-cnn', input: [1, 28, 28], batch: 4, numClasses: 10, seed: 3 });
  assert.equal(liveTensors().count, before);
});

test('resnet18 matches torchvision at 3x64x64', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'resnet18', input: [3, 64, 64], batch: 2, numClasses: 10, seed: 5 });
  assert.equal(liveTensors().count, before);
});

test('mobilenet_v2 (alpha 0.35) matches torchvision at 3x64x64', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'mobilenet_v2_035', input: [3, 64, 64], batch: 2, numClasses: 10, seed: 7 });
  assert.equal(liveTensors().count, before);
});
