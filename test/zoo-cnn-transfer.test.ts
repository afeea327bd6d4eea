// EfficientNet, MobileNetV3 and RegNet through the trainer's transfer machinery, which all runs
// on a model's stages(): feature extraction on the cached frozen body, fine-tuning of the last
// layer groups with discriminative learning rates (--lr-decay), and frozen weights and BatchNorm
// statistics that stay put while the rest trains. One model per family, 3x32x32, 12 images.
// A freshly initialised EfficientNet in eval mode passes almost nothing on (its BatchNorms'
// statistics are still 0 and 1 while its depthwise convs shrink activations: features ~1e-14
// at 32 px, as in torchvision), so each body is first given its data's statistics with AdaBN,
// as pretrained weights would have them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { DataLoader } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { adaptBatchNorm } from '../src/transfer/adapt/index.js';
import { Learner, type LearnerView } from '../src/train/index.js';
import { liveTensors, manualSeed } from '../src/tensor/index.js';
import { brightnessDataset } from './helpers/bright-images.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
const base = { batchSize: 4, optimizer: 'sgd', momentum: 0, weightDecay: 0, scheduler: 'none', lr: 0.05, seed: 1, augment: 'none' } as const;
const FAMILIES = ['efficientnet_b0', 'mobilenet_v3_small', 'regnet_y_400mf'];

const under = (name: string, prefixes: string[]): boolean => prefixes.some((p) => name === p || name.startsWith(`${p}.`));
const snapshot = (model: ClassifierModel): Map<string, number[]> => new Map([...model.stateDict()].map(([k, v]) => [k, v.toFlatArray()]));
const changed = (a: Map<string, number[]>, b: Map<string, number[]>, keys: string[]): string[] => keys.filter((k) => a.get(k)!.some((v, i) => v !== b.get(k)![i]));

async function build(name: string): Promise<ClassifierModel> {
  manualSeed(5);
  const model = createModel(name, { numClasses: 3, inputSize: [32, 32] });
  await adaptBatchNorm(model, new DataLoader(brightnessDataset(12), { batchSize: 12, mean: model.config.mean, std: model.config.std }), fp32);
  return model;
}

for (const name of FAMILIES) {
  test(`${name}: feature extraction trains the head alone on the cached body; the body's weights and statistics stay put`, async () => {
    const live = liveTensors().count;
    const model = await build(name);
    try {
      const stages = model.stages();
      const head = stages[stages.length - 1]!.prefixes;
      const before = snapshot(model);
      const learn = new Learner({ model, train: brightnessDataset(12), options: { ...base, epochs: 1 }, plan: fp32, quiet: true });
      await learn.featureExtract();
      assert.equal(learn.frozenStages, stages.length - 1);
      assert.equal(learn.startStage, learn.frozenStages, 'batches entered at the head: the frozen body ran once, cached');
      const after = snapshot(model);
      const keys = [...before.keys()];
      assert.deepEqual(changed(before, after, keys.filter((k) => !under(k, head))), [], 'nothing outside the head moved');
      assert.deepEqual(changed(before, after, keys.filter((k) => under(k, head))).sort(), keys.filter((k) => under(k, head)).sort(), 'the head trained');
    } finally {
      model.dispose();
    }
    assert.equal(liveTensors().count, live);
  });

  test(`${name}: fine-tuning the last two layer groups with --lr-decay 0.5 gives them lr/4 and lr/2, the head lr, and leaves the rest alone`, async () => {
    const live = liveTensors().count;
    const model = await build(name);
    try {
      const stages = model.stages();
      const groups: { lr: number; params: number }[] = [];
      const seen = {
        order: 10,
        afterSetup: (v: LearnerView): void => {
          const meta = v.optimizer!.state().meta as { optimizer: { paramGroups: { lr: number; params: number[] }[] } };
          for (const g of meta.optimizer.paramGroups) groups.push({ lr: g.lr, params: g.params.length });
        },
      };
      const before = snapshot(model);
      const learn = new Learner({ model, train: brightnessDataset(12), options: { ...base, epochs: 1 }, plan: fp32, callbacks: [seen], quiet: true });
      await learn.fineTune({ unfreeze: 2, lrDecay: 0.5 });
      assert.equal(learn.frozenStages, stages.length - 3);
      assert.equal(learn.startStage, learn.frozenStages, 'the frozen prefix ran once, cached');
      const trained = stages.slice(-3);
      const count = (prefixes: string[]): number => [...model.namedParameters().keys()].filter((k) => under(k, prefixes)).length;
      assert.deepEqual(
        groups,
        trained.map((s, i) => ({ lr: base.lr * 0.5 ** (2 - i), params: count(s.prefixes) })),
        `groups for ${trained.map((s) => s.name).join(', ')}`,
      );
      const after = snapshot(model);
      const frozen = stages.slice(0, -3).flatMap((s) => s.prefixes);
      const keys = [...before.keys()];
      assert.deepEqual(changed(before, after, keys.filter((k) => under(k, frozen))), [], 'frozen weights and BatchNorm statistics did not move');
      for (const s of trained) assert.ok(changed(before, after, keys.filter((k) => under(k, s.prefixes))).length > 0, `${s.name} trained`);
    } finally {
      model.dispose();
    }
    assert.equal(liveTensors().count, live);
  });
}
