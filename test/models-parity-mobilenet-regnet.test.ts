// MobileNetV3 and RegNetY against torchvision 0.14 (test/peer/models_parity.py, run now): the same
// state-dict names, order and shapes, the same init for a seed, eval logits, one train-mode forward
// and every parameter's gradient within 1e-4. Neither has stochastic depth; MobileNetV3's dropout
// draws the same mask on both sides after the same manual seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

for (const [model, seed] of [
  ['mobilenet_v3_small', 31],
  ['mobilenet_v3_large', 32],
  ['regnet_y_400mf', 33],
  ['regnet_y_1_6gf', 34],
] as const) {
  test(`${model} matches torchvision at 3x64x64: names, shapes, init, eval and train logits, every gradient`, (t) => {
    const before = liveTensors().count;
    const f = checkModelParity({ model, input: [3, 64, 64], batch: 2, numClasses: 10, seed, allGrads: true });
    // The logits of a fresh classifier are small (|logit| ~ 0.01): 1e-4 must hold relative to them too.
    assert.ok(Math.max(f.evalLogits, f.trainLogits) <= 1e-4 * f.logitScale, `logits within 1e-4 of their largest, ${f.logitScale}`);
    t.diagnostic(`largest differences: eval logits ${f.evalLogits.toExponential(1)}, train logits ${f.trainLogits.toExponential(1)}, gradient ${f.gradient.toExponential(1)} of its largest (${f.gradientWhere}) over ${f.gradsCompared} parameters`);
    assert.equal(liveTensors().count, before);
  });
}
