import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { BatchNorm2d } from '../src/nn/index.js';
import { TlcvError } from '../src/errors.js';
import { F, disposeAll, keep, liveTensors, manualSeed, noGrad, randint, randn, tidy, type Tensor } from '../src/tensor/index.js';

/** A few plain SGD steps on the trainable parameters, the model in train mode. */
function sgdSteps(model: ClassifierModel, steps: number, lr = 0.1): void {
  model.train();
  for (let i = 0; i < steps; i += 1) {
    tidy(() => {
      const x = randn([4, 3, 32, 32]);
      const y = randint(0, model.numClasses, [4]);
      F.crossEntropy(model.forward(x), y).backward();
      noGrad(() => {
        for (const p of model.parameters({ trainableOnly: true })) {
          const g = p.grad;
          if (g !== null) p.sub_(g.mul(lr));
        }
      });
      model.zeroGrad();
    });
  }
}

function snapshot(model: ClassifierModel): Map<string, Tensor> {
  return new Map([...model.stateDict()].map(([k, v]) => [k, keep(v.clone())]));
}

const equalValues = (a: Tensor, b: Tensor): boolean => tidy(() => a.sub(b).abs().max().item() === 0);

test('frozen weights and frozen BatchNorm statistics do not move while the rest trains', () => {
  const before = liveTensors().count;
  manualSeed(0);
  const model = createModel('resnet18', { numClasses: 4, inputSize: [32, 32] });
  model.freeze(['conv1', 'bn1', 'layer1']);
  const start = snapshot(model);
  try {
    sgdSteps(model, 3);
    const frozen = (k: string): boolean => /^(conv1|bn1|layer1)\./.test(k);
    for (const [k, v] of model.stateDict()) {
      const same = equalValues(v, start.get(k)!);
      if (frozen(k)) assert.ok(same, `${k} is frozen and must not change`);
      else if (!k.endsWith('num_batches_tracked')) assert.ok(!same, `${k} trains and must change`);
    }
    assert.equal(model.stateDict().get('layer1.0.bn1.num_batches_tracked')!.item(), 0);
    assert.equal(model.stateDict().get('layer2.0.bn1.num_batches_tracked')!.item(), 3);
    for (const [k, p] of model.namedParameters()) {
      if (!frozen(k)) continue;
      assert.equal(p.requiresGrad, false, k);
      assert.equal(p.grad, null, `${k} gets no gradient`);
    }
  } finally {
    disposeAll([...start.values()]);
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('evalWhenFrozen = false gives PyTorch behaviour: frozen BN still tracks statistics', () => {
  manualSeed(0);
  const model = createModel('resnet18', { numClasses: 4, inputSize: [32, 32] });
  model.freeze(['conv1', 'bn1']);
  const bn = model.getSubmodule('bn1') as BatchNorm2d;
  bn.evalWhenFrozen = false;
  const mean = keep(bn.runningMean!.clone());
  const weight = keep(bn.weight!.clone());
  try {
    sgdSteps(model, 1);
    assert.ok(!equalValues(bn.runningMean!, mean), 'running mean moved');
    assert.ok(equalValues(bn.weight!, weight), 'the frozen weight did not');
  } finally {
    mean.dispose();
    weight.dispose();
    model.dispose();
  }
});

test('freeze/unfreeze by prefix: counts, whole-model, and unknown prefixes', () => {
  const model = createModel('seed-cnn');
  try {
    const total = model.numParameters();
    assert.equal(model.numParameters({ trainableOnly: true }), total);
    model.freeze();
    assert.equal(model.numParameters({ trainableOnly: true }), 0);
    model.unfreeze(['classifier.fc2']);
    assert.equal(model.numParameters({ trainableOnly: true }), 512 * 10 + 10);
    assert.deepEqual([...model.namedParameters({ trainableOnly: true }).keys()], ['classifier.fc2.weight', 'classifier.fc2.bias']);
    // A prefix matches whole name segments only: 'features.1' is not 'features.10'.
    model.unfreeze(['features.0.weight']);
    assert.equal(model.namedParameters().get('features.0.bias')!.requiresGrad, false);
    assert.throws(
      () => model.freeze(['layer1']),
      (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && /"layer1"/.test(e.message) && /features, classifier/.test(e.message),
    );
  } finally {
    model.dispose();
  }
});
