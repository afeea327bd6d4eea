import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, getModelConfig, listModels, type ClassifierModel } from '../src/models/index.js';
import { TlcvError } from '../src/errors.js';
import { disposeAll, keep, liveTensors, manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';

const under = (name: string, prefix: string): boolean => name === prefix || name.startsWith(`${prefix}.`);

function sweepInput(name: string): [number, number] {
  const [, minH, minW] = getModelConfig(name).minInputSize;
  // seed-cnn's classifier is sized for its input; the others take anything from their minimum.
  return name === 'seed-cnn' ? [28, 28] : [minH, minW];
}

function logits(model: ClassifierModel, x: Tensor): Tensor {
  return noGrad(() => model.forward(x));
}

for (const name of listModels()) {
  test(`zoo: ${name} builds, runs, round-trips its state dict and resets its head`, () => {
    const before = liveTensors().count;
    const [h, w] = sweepInput(name);
    manualSeed(1);
    const model = createModel(name, { numClasses: 5, inputSize: [h, w] });
    manualSeed(2);
    const fresh = createModel(name, { numClasses: 5, inputSize: [h, w] });
    try {
      model.eval();
      fresh.eval();
      tidy(() => {
        const x = randn([2, model.config.inputSize[0], h, w]);
        const y = logits(model, x);
        assert.deepEqual(y.shape, [2, 5]);
        assert.equal(y.unary('isfinite').sum().item(), 10, 'every logit is finite');

        // Stages, applied in order, are the forward pass.
        const stages = model.stages();
        const staged = noGrad(() => stages.reduce((out, s) => s.forward(out), x));
        assertClose(staged, y, { rtol: 1e-6, atol: 1e-6, what: `${name} stages composed` });

        // Stage prefixes partition the parameters, and the head owns exactly the classifier.
        const params = [...model.namedParameters().keys()];
        for (const p of params) {
          const owners = stages.filter((s) => s.prefixes.some((pre) => under(p, pre)));
          assert.equal(owners.length, 1, `${p} belongs to exactly one stage`);
        }
        const headPrefixes = stages.slice(-model.headStageCount).flatMap((s) => s.prefixes);
        assert.deepEqual(
          params.filter((p) => headPrefixes.some((pre) => under(p, pre))),
          params.filter((p) => under(p, model.config.classifier)),
        );

        // The state dict round-trips through copies into a differently seeded model.
        const saved = new Map([...model.stateDict()].map(([k, v]) => [k, keep(v.clone())]));
        try {
          assert.notDeepEqual(logits(fresh, x).toFlatArray(), y.toFlatArray());
          const report = fresh.loadStateDict(saved);
          assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
          for (const [k, v] of fresh.stateDict()) assert.deepEqual(v.shape, saved.get(k)!.shape, k);
          assertClose(logits(fresh, x), y, { rtol: 0, atol: 0, what: `${name} after loadStateDict` });
        } finally {
          disposeAll([...saved.values()]);
        }

        model.resetClassifier(7);
        assert.equal(model.numClasses, 7);
        assert.deepEqual(logits(model, x).shape, [2, 7]);
        assert.equal(model.getSubmodule(model.config.classifier).parameters()[0]!.shape[0], 7);
      });
    } finally {
      model.dispose();
      fresh.dispose();
    }
    assert.equal(liveTensors().count, before, 'no tensor outlives the models');
  });
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
