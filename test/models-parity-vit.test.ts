import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

// torchvision's ViT-B/16 built for 32-px images (a 2x2 patch grid and the class token): init draw
// for draw (nn.MultiheadAttention's order included), eval and train logits, every gradient.
test('vit_b_16 matches torchvision at 3x32x32', () => {
  const before = liveTensors().count;
  checkModelParity({ model: 'vit_b_16', input: [3, 32, 32], batch: 2, numClasses: 10, seed: 17, allGrads: true });
  assert.equal(liveTensors().count, before);
});
