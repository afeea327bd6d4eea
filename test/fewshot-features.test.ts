// Pooled features for the training-free heads: for every zoo model the features are exactly
// what its classifier layer takes (classifier(features) reproduces the logits), they stay in
// the autograd graph, the observation leaves the model as it was, and batch-wise extraction
// and the running mean agree with one big forward, without leaking tensors; the Linear the
// heads install keeps float32 under bf16 autocast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { DataLoader } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { extractFeatures, featureMean } from '../src/transfer/heads/index.js';
import { forwardWithFeatures } from '../src/execution/index.js';
import { autocast, cat, liveTensors, manualSeed, noGrad, randn, tidy } from '../src/tensor/index.js';
import { Linear } from '../src/nn/index.js';
import { Float32Linear } from '../src/nn/float32-linear.js';
import { assertClose } from './helpers/assert-close.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

const MODELS: [string, () => ClassifierModel, number[], number][] = [
  ['seed-cnn', () => createModel('seed-cnn', { numClasses: 7 }), [1, 28, 28], 512],
  ['resnet18', () => createModel('resnet18', { numClasses: 7, inputSize: [32, 32] }), [3, 32, 32], 512],
  ['mobilenet_v2_035', () => createModel('mobilenet_v2_035', { numClasses: 7, inputSize: [32, 32] }), [3, 32, 32], 1280],
  ['tiny test net', () => new TinyNet({ ...TINY_CONFIG, numClasses: 7 }), [1, 8, 8], 64],
];

for (const [name, make, input, dim] of MODELS) {
  test(`${name}: the features are the classifier layer's input`, () => {
    const before = liveTensors().count;
    manualSeed(3);
    const model = make().eval();
    try {
      tidy(() => {
        const x = randn([5, ...input]);
        const { features, logits } = noGrad(() => forwardWithFeatures(model, x));
        assert.deepEqual(features.shape, [5, dim]);
        const classifier = model.getSubmodule(model.config.classifier);
        assertClose(noGrad(() => classifier.forward(features)), logits, { rtol: 1e-5, atol: 1e-6, what: 'classifier(features) vs logits' });
        assertClose(logits, noGrad(() => model.forward(x)), { rtol: 0, atol: 0, what: 'logits vs a plain forward' });
        assert.equal(Object.hasOwn(classifier, 'forward'), false, 'the observation is removed after the call');
      });
    } finally {
      model.dispose();
    }
    assert.equal(liveTensors().count, before);
  });
}

test('features stay in the graph: a loss on them reaches the first conv', async () => {
  manualSeed(4);
  const model = createModel('seed-cnn', { numClasses: 3 });
  try {
    tidy(() => {
      const { features } = forwardWithFeatures(model.eval(), randn([2, 1, 28, 28]));
      features.pow(2).sum().backward();
      const g = model.getSubmodule('features.0').namedParameters().get('weight')!.grad;
      assert.ok(g !== null && g.abs().sum().item() > 0, 'the first conv has a gradient');
    });
  } finally {
    model.dispose();
  }
});

test('extractFeatures and featureMean agree with one forward over the whole set', async () => {
  const before = liveTensors().count;
  manualSeed(5);
  const model = new TinyNet(TINY_CONFIG);
  const ds = tinyDataset(23);
  const loader = new DataLoader(ds, { batchSize: 5, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  try {
    const { features, labels } = await extractFeatures(model, loader, fp32);
    assert.deepEqual(features.shape, [23, 64]);
    assert.deepEqual([...labels], [...ds.labels]);
    tidy(() => {
      const whole = new DataLoader(ds, { batchSize: 23, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
      const parts = [...whole].map((b) => noGrad(() => forwardWithFeatures(model, b.x).features));
      assertClose(features, cat(parts), { rtol: 1e-6, atol: 1e-6, what: 'batched vs whole' });
    });
    const mean = await featureMean(model, loader, fp32);
    tidy(() => assertClose(mean, features.mean(0), { rtol: 1e-5, atol: 1e-6, what: 'running mean' }));
    mean.dispose();
    assert.equal(features.requiresGrad, false);
    features.dispose();
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before, 'no tensor left behind');
});

test('Float32Linear keeps float32 under bf16 autocast, with the state of a plain Linear', async () => {
  const before = liveTensors().count;
  manualSeed(6);
  const precise = new Float32Linear(16, 4);
  const plain = new Linear(16, 4);
  try {
    tidy(() => {
      plain.loadStateDict(precise.stateDict());
      const x = randn([8, 16]).mul(10).add(50);
      const reference = noGrad(() => plain.forward(x));
      const under = noGrad(() => autocast(() => [precise.forward(x), plain.forward(x)] as const));
      assert.equal(under[0].dtype, 'float32');
      assertClose(under[0], reference, { rtol: 0, atol: 0, what: 'Float32Linear under autocast' });
      assert.equal(under[1].dtype, 'bfloat16', 'a plain Linear does run in bf16 there');
    });
  } finally {
    precise.dispose();
    plain.dispose();
  }
  assert.equal(liveTensors().count, before);
});
