// EfficientNet against torchvision 0.14 (test/peer/models_parity.py, run now): the same state-dict
// names, order and shapes, the same init for a seed, eval logits, one train-mode forward and every
// parameter's gradient within 1e-4. Stochastic depth is off on both sides (stochastic_depth_prob=0
// in torchvision's builder, stochasticDepthProb: 0 in createModel): its per-sample draws are not
// shared between the two generators. Dropout's are, after the same manual seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { checkModelParity } from './helpers/model-parity.js';

for (const [model, seed] of [
  ['efficientnet_b0', 21],
  ['efficientnet_b1', 22],
  ['efficientnet_b2', 23],
  ['efficientnet_b3', 24],
  ['efficientnet_v2_s', 25],
] as const) {
  test(`${model} matches torchvision at 3x64x64: names, shapes, init, eval and train logits, every gradient`, (t) => {
    const before = liveTensors().count;
    const f = checkModelParity({ model, input: [3, 64, 64], batch: 2, numClasses: 10, seed, stochasticDepthProb: 0, allGrads: true });
    // The logits of a fresh classifier are small (|logit| ~ 0.01): 1e-4 must hold relative to them too.
    assert.ok(Math.max(f.evalLogits, f.trainLogits) <= 1e-4 * f.logitScale, `logits within 1e-4 of their largest, ${f.logitScale}`);
    t.diagnostic(`largest differences: eval logits ${f.evalLogits.toExponential(1)}, train logits ${f.trainLogits.toExponential(1)}, gradient ${f.gradient.toExponential(1)} of its largest (${f.gradientWhere}) over ${f.gradsCompared} parameters`);
    assert.equal(liveTensors().count, before);
  });
}
