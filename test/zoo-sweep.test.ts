import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, getModelConfig, listModels } from '../src/models/index.js';
import { TlcvError } from '../src/errors.js';
import { liveTensors, randn, tidy } from '../src/tensor/index.js';
import { sweepModel } from './helpers/zoo-sweep.js';

// The transformer half of the zoo (ConvNeXt, ViT, DINOv2) is swept in zoo-sweep-transformers.test.ts.
const TRANSFORMER_ARCHS = ['convnext', 'vit', 'dinov2'];

for (const name of listModels().filter((n) => !TRANSFORMER_ARCHS.includes(getModelConfig(n).arch))) {
  test(`zoo: ${name} builds, runs, round-trips its state dict and resets its head`, () => sweepModel(name));
}

test('unknown model names and bad options are typed errors that say what was expected', () => {
  assert.throws(
    () => createModel('resnet19'),
    (e: unknown) => e instanceof TlcvError && e.code === 'MODEL' && e.message.includes('unknown model "resnet19"') && e.message.includes('resnet18'),
  );
  const argument = (re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && re.test(e.message);
  assert.throws(() => createModel('resnet18', { numClasses: -1 }), argument(/Expected positive integer for numClasses but received -1/));
  assert.throws(() => createModel('resnet18', { alpha: 0.5 }), argument(/alpha/));
  assert.throws(() => createModel('mobilenet_v2', { inputSize: [16, 16] }), argument(/at least \[32, 32\].*for inputSize/));
  assert.throws(() => createModel('seed-cnn', { dropout: 1.5 }), argument(/dropout/));
});

test('a model rejects input it was not built for, naming both shapes', () => {
  const model = createModel('seed-cnn');
  try {
    tidy(() => {
      assert.throws(() => model.forward(randn([2, 3, 28, 28])), (e: unknown) => e instanceof TlcvError && /\[N, 1, H, W\]/.test(e.message));
      assert.throws(() => model.forward(randn([2, 1, 64, 64])), (e: unknown) => e instanceof TlcvError && /inputSize \[64, 64\]/.test(e.message));
    });
  } finally {
    model.dispose();
  }
});

test('options reach the built model: channels, size, width, dropout', () => {
  const before = liveTensors().count;
  const gray = createModel('resnet18', { inChannels: 1, numClasses: 3 });
  assert.deepEqual(gray.getSubmodule('conv1').parameters()[0]!.shape, [64, 1, 7, 7]);
  assert.equal(gray.config.mean.length, 1);
  gray.dispose();
  const cnn = createModel('seed-cnn', { inputSize: [32, 48] });
  assert.deepEqual(cnn.getSubmodule('classifier.fc1').parameters()[0]!.shape, [512, 256 * 4 * 6]);
  cnn.dispose();
  const wide = createModel('mobilenet_v2', { alpha: 0.5, dropout: 0.1 });
  assert.deepEqual(wide.getSubmodule('features.0.0').parameters()[0]!.shape, [16, 3, 3, 3]);
  assert.equal(wide.config.pretrained, undefined, 'weights for alpha 1.0 do not apply to 0.5');
  wide.dispose();
  assert.equal(liveTensors().count, before);
});
