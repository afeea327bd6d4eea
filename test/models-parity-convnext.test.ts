import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

// Weights, input and outputs come from torchvision (test/peer/models_parity.py) in this run:
// init draw for draw, eval and train logits, and every parameter's gradient (stochastic depth off).
test('convnext_tiny matches torchvision at 3x32x32', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'convnext_tiny', input: [3, 32, 32], batch: 2, numClasses: 10, seed: 13, allGrads: true });
  assert.equal(liveTensors().count, before);
});
