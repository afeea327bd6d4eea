/**
 * The zoo sweep for one model: it builds, runs, composes its stages into its forward, partitions
 * its parameters among the stages, round-trips its state dict and resets its head.
 */
import assert from 'node:assert/strict';
import { createModel, getModelConfig, type ClassifierModel } from '../../src/models/index.js';
import { LayerNorm } from '../../src/nn/index.js';
import { disposeAll, keep, liveTensors, manualSeed, noGrad, randn, tidy, type Tensor } from '../../src/tensor/index.js';
import { assertClose } from './assert-close.js';

const under = (name: string, prefix: string): boolean => name === prefix || name.startsWith(`${prefix}.`);

function sweepInput(name: string): [number, number] {
  const [, minH, minW] = getModelConfig(name).minInputSize;
  // seed-cnn's classifier is sized for its input; the others take anything from their minimum.
  return name === 'seed-cnn' ? [28, 28] : [minH, minW];
}

function logits(model: ClassifierModel, x: Tensor): Tensor {
  return noGrad(() => model.forward(x));
}

/** Runs the sweep's checks on zoo model `name` (at its minimum input size). */
export function sweepModel(name: string): void {
  const before = liveTensors().count;
  const [h, w] = sweepInput(name);
  manualSeed(1);
  const model = createModel(name, { numClasses: 5, inputSize: [h, w] });
  manualSeed(2);
  const fresh = createModel(name, { numClasses: 5, inputSize: [h, w] });
  try {
    model.eval();
    fresh.eval();
    // torchvision's ViT starts its head at zero, so any two seeds would give the same (zero) logits.
    noGrad(() => tidy(() => model.getSubmodule(model.config.classifier).parameters().forEach((p) => p.abs().max().item() === 0 && p.copy_(randn(p.shape)))));
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
      // Besides the classifier, a head may own the final LayerNorm it reads (ConvNeXt's, the ViTs'), as timm's do.
      const headPrefixes = stages.slice(-model.headStageCount).flatMap((s) => s.prefixes);
      const norms = [...model.namedModules()].filter(([, m]) => m instanceof LayerNorm).map(([p]) => p);
      const inHead = params.filter((p) => headPrefixes.some((pre) => under(p, pre)));
      assert.deepEqual(
        inHead.filter((p) => !norms.some((n) => under(p, n))),
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
}
