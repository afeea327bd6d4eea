// Conv + BatchNorm folding: the fold's arithmetic, then for every zoo model (BatchNorm
// statistics randomised, so the fold is not an identity) a folded forward that equals the
// unfolded eval forward, leaves the state dict and modes alone and leaks nothing; pairs that
// would change meaning (BatchNorm in training, trainable weights under autograd) stay unfolded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, getModelConfig, listModels } from '../src/models/index.js';
import { BatchNorm2d, Conv2d, foldConvBn, foldedForInference } from '../src/nn/index.js';
import { F, autocast, inferenceMode, liveTensors, manualSeed, noGrad, rand, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { randomiseNorms } from './helpers/norms.js';

test('foldConvBn: conv then eval BatchNorm equals one conv with the folded weight and bias', () => {
  const live = liveTensors().count;
  manualSeed(4);
  for (const bias of [true, false]) {
    const conv = new Conv2d(3, 6, 3, { padding: 1, bias, stride: 2 });
    const bn = new BatchNorm2d(6, { eps: 1e-3 });
    tidy(() => {
      noGrad(() => {
        bn.weight!.copy_(rand([6]).add(0.5));
        bn.bias!.copy_(randn([6]));
        bn.runningMean!.copy_(randn([6]));
        bn.runningVar!.copy_(rand([6]).add(0.1));
      });
      bn.eval();
      const x = randn([2, 3, 9, 9]);
      const expected = noGrad(() => bn.forward(conv.forward(x)));
      const { weight, bias: b } = foldConvBn(conv, bn);
      assert.deepEqual([weight.shape, b.shape, weight.requiresGrad, b.requiresGrad], [[6, 3, 3, 3], [6], false, false]);
      assertClose(noGrad(() => F.conv2d(x, weight, b, { stride: 2, padding: 1 })), expected, { rtol: 1e-5, atol: 1e-5, what: `bias ${bias}` });
      weight.dispose();
      b.dispose();
    });
    conv.dispose();
    bn.dispose();
  }
  const [conv, bn] = [new Conv2d(3, 4, 1), new BatchNorm2d(5)];
  assert.throws(() => foldConvBn(conv, bn), /BatchNorm2d over 5 channels into a Conv2d with 4/);
  conv.dispose();
  bn.dispose();
  assert.equal(liveTensors().count, live);
});

const EXPECTED_PAIRS: Record<string, number> = { 'seed-cnn': 0, resnet18: 20, resnet34: 36, resnet50: 53, mobilenet_v2: 52, mobilenet_v2_035: 52, convnext_tiny: 0, vit_b_16: 0, dinov2_vits14: 0 };
// Every BatchNorm of these follows a conv (torchvision's Conv2dNormActivation): each count is the model's BatchNorm count.
Object.assign(EXPECTED_PAIRS, { efficientnet_b0: 49, efficientnet_b1: 69, efficientnet_b2: 69, efficientnet_b3: 78, efficientnet_v2_s: 110 });
Object.assign(EXPECTED_PAIRS, { mobilenet_v3_small: 34, mobilenet_v3_large: 46, regnet_y_400mf: 53, regnet_y_1_6gf: 86 });
// The larger members of a LayerNorm family (no BatchNorm to fold) add no module kind, only build time.
const SAME_KINDS = ['convnext_small', 'dinov2_vitb14'];

for (const name of listModels().filter((n) => !SAME_KINDS.includes(n))) {
  test(`${name}: the folded forward equals the eval forward (fp32, within 1e-5 of the largest logit), state and modes untouched, no leaks`, () => {
    const live = liveTensors().count;
    const [, minH, minW] = getModelConfig(name).minInputSize;
    const size: [number, number] = name === 'seed-cnn' ? [28, 28] : [minH, minW];
    manualSeed(7);
    const model = createModel(name, { numClasses: 7, inputSize: size });
    randomiseNorms(model);
    model.eval();
    const before = tidy(() => [...model.stateDict()].map(([k, v]) => [k, v.clone().keep()] as const));
    const folded = foldedForInference(model);
    assert.equal(folded.pairs.length, EXPECTED_PAIRS[name], JSON.stringify(folded.pairs.slice(0, 3)));
    assert.deepEqual(folded.precast, [], 'fp32 weights are used as they are');
    tidy(() => {
      const x = randn([3, model.config.inputSize[0], ...size]);
      const expected = inferenceMode(() => model.forward(x));
      const actual = inferenceMode(() => folded.forward(x));
      // Measured: at most 1.3e-6 of the largest logit (resnet50); folding only reorders rounding.
      assertClose(actual, expected, { rtol: 1e-5, atol: 1e-5 * expected.abs().max().item(), what: name });
      // The view applies only inside its own calls.
      assertClose(inferenceMode(() => model.forward(x)), expected, { rtol: 0, atol: 0, what: `${name} unfolded again` });
    });
    for (const [k, v] of before) tidy(() => assert.equal(model.stateDict().get(k)!.sub(v).abs().sum().item(), 0, k));
    assert.ok([...model.namedModules().values()].every((m) => !m.training));
    folded.dispose();
    before.forEach(([, v]) => v.dispose());
    model.dispose();
    assert.equal(liveTensors().count, live, 'no tensor leaks from folding');
  });
}

test('bf16 channels-last folds (and pre-cast weights) run under autocast as the unfolded model does (bf16 tolerance)', () => {
  manualSeed(8);
  const model = createModel('mobilenet_v2_035', { numClasses: 5, inputSize: [32, 32] });
  randomiseNorms(model);
  model.eval().to({ memoryFormat: 'channelsLast' });
  const folded = foldedForInference(model, { dtype: 'bfloat16', memoryFormat: 'channelsLast' });
  // The classifier is a linear layer without a BatchNorm: its weight is pre-cast instead.
  assert.deepEqual([folded.pairs.length, folded.precast], [52, ['classifier.1']]);
  tidy(() => {
    const x = randn([4, 3, 32, 32]).contiguous('channelsLast');
    const run = (f: (x: Tensor) => Tensor): Tensor => inferenceMode(() => autocast(() => f(x)).float());
    const expected = run((v) => model.forward(v));
    assertClose(run((v) => folded.forward(v)), expected, { rtol: 5e-2, atol: 5e-2 * expected.abs().max().item(), what: 'bf16' });
  });
  folded.dispose();
  model.dispose();
  // Without BatchNorms only the casts move out of the call: the results are autocast's exactly.
  const cnn = createModel('seed-cnn').eval().to({ memoryFormat: 'channelsLast' });
  const view = foldedForInference(cnn, { dtype: 'bfloat16', memoryFormat: 'channelsLast' });
  assert.deepEqual(view.precast, ['features.0', 'features.3', 'features.6', 'features.8', 'classifier.fc1', 'classifier.fc2']);
  tidy(() => {
    const x = randn([4, 1, 28, 28]).contiguous('channelsLast');
    const run = (f: (x: Tensor) => Tensor): number[] => inferenceMode(() => autocast(() => f(x)).float().toFlatArray());
    assert.deepEqual(run((v) => view.forward(v)), run((v) => cnn.forward(v)));
  });
  view.dispose();
  cnn.dispose();
});

test('pairs that would change meaning stay unfolded: BatchNorm in training, trainable weights under autograd', () => {
  manualSeed(9);
  const model = createModel('resnet18', { numClasses: 3, inputSize: [32, 32] });
  randomiseNorms(model);
  const folded = foldedForInference(model);
  tidy(() => {
    const x = randn([2, 3, 32, 32]);
    // A frozen model in training: its BatchNorms keep their running statistics, and the pairs fold.
    model.freeze();
    model.eval();
    const expected = noGrad(() => model.forward(x));
    model.train();
    const running = model.getSubmodule('bn1').namedBuffers().get('running_mean')!.clone();
    assertClose(folded.forward(x), expected, { rtol: 1e-4, atol: 1e-4 * expected.abs().max().item(), what: 'frozen, folded' });
    assertClose(model.getSubmodule('bn1').namedBuffers().get('running_mean')!, running, { rtol: 0, atol: 0, what: 'running mean unchanged' });
    // Trainable and in training: every BatchNorm uses batch statistics, so nothing folds, and
    // a gradient reaches the first conv's weight.
    model.unfreeze();
    const unfolded = model.forward(x);
    folded.forward(x).sum().backward();
    assert.ok(model.getSubmodule('conv1').parameters()[0]!.grad !== null, 'the unfolded conv was differentiated');
    assert.ok(unfolded.sub(expected).abs().max().item() > 1e-3, 'batch statistics differ from running ones: the check above can fail');
  });
  folded.dispose();
  assert.throws(() => folded.forward(tidy(() => randn([1, 3, 32, 32]))), /after dispose/);
  model.dispose();
});
