// ConvNeXt, ViT and DINOv2 through what tlcv does with a model: layer-wise lr decay over blocks
// (BEiT's and timm's), freezing by stages, feature extraction on the cached frozen prefix and
// fine-tuning under bf16 autocast, plan timing, few-shot heads, and AdaBN's refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TlcvError } from '../src/errors.js';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { DataLoader, loadDataset, type ImageDataset } from '../src/data/index.js';
import { candidatePlans, planForward, setTrainingMode, tunePlan, type ExecutionPlan } from '../src/execution/index.js';
import { applyStrategy } from '../src/transfer/strategy.js';
import { fitFewShotHead } from '../src/transfer/heads/index.js';
import { adaptBatchNorm, withoutLabels } from '../src/transfer/adapt/index.js';
import { Learner, createTrainingOptimizer, resolveTrainOptions, evaluateModel } from '../src/train/index.js';
import { adaptModel } from '../src/runs/index.js';
import { F, liveTensors, manualSeed, randint, randn, tidy } from '../src/tensor/index.js';

const fp32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };
const bf16: ExecutionPlan = { bf16: true, channelsLast: true, device: 'cpu' };
const digits = (): Promise<ImageDataset> => loadDataset('mnist:train@k=2,seed=1');

function dino(): ClassifierModel {
  manualSeed(4);
  return createModel('dinov2_vits14', { numClasses: 10, inChannels: 1, inputSize: [28, 28] });
}

/**
 * BEiT's get_layer_id_for_vit, on both layouts: the embedding is layer 0, block i is i + 1, and
 * everything after the blocks (final norm, head) the last, depth + 1.
 */
function layerId(name: string, depth: number): number {
  const block = /^(?:blocks\.|encoder\.layers\.encoder_layer_)(\d+)\./.exec(name);
  if (block) return Number(block[1]) + 1;
  if (/^(cls_token|pos_embed|mask_token|patch_embed|class_token|conv_proj|encoder\.pos_embedding)\b/.test(name)) return 0;
  return depth + 1;
}

test('--lr-decay over a ViT is the layer-wise decay of BEiT and timm: lr · d^(depth + 1 - layer id)', () => {
  for (const [name, size] of [['dinov2_vits14', 28], ['vit_b_16', 32]] as const) {
    manualSeed(1);
    const model = createModel(name, { numClasses: 3, inputSize: [size, size] });
    const stages = model.stages();
    const opt = createTrainingOptimizer(model, stages, 0, resolveTrainOptions({ lr: 0.1, lrDecay: 0.6, optimizer: 'adamw', scheduler: 'none' }), 1);
    try {
      const groups = (opt.state().meta as { optimizer: { paramGroups: { lr: number; params: number[] }[] } }).optimizer.paramGroups;
      assert.equal(groups.length, 12 + 2, `${name}: the embedding, 12 blocks, norm + head`);
      // Parameter ids run over the groups in order; each group holds its stage's parameters in model order.
      const names = stages.flatMap((s) => [...model.namedParameters().keys()].filter((n) => s.prefixes.some((p) => n === p || n.startsWith(`${p}.`))));
      assert.equal(names.length, model.parameters().length);
      for (const g of groups) {
        for (const id of g.params) {
          const expected = 0.1 * 0.6 ** (12 + 1 - layerId(names[id]!, 12));
          assert.ok(Math.abs(g.lr - expected) < 1e-12, `${name} ${names[id]}: lr ${g.lr}, BEiT's ${expected}`);
        }
      }
    } finally {
      opt.dispose();
      model.dispose();
    }
  }
});

test('freezing by stages: fine-tune N trains the last N blocks, the final norm and the head; frozen stages run in eval mode', () => {
  const model = dino();
  try {
    const names = (): string[] => [...model.namedParameters({ trainableOnly: true }).keys()];
    const s = applyStrategy(model, 'fine-tune', 2);
    assert.equal(s.frozenStages, 11, 'the embedding and blocks 0 to 9');
    assert.ok(names().every((n) => /^(blocks\.1[01]\.|norm\.|head\.)/.test(n)));
    assert.ok(names().some((n) => n.startsWith('blocks.10.')) && names().includes('norm.weight') && names().includes('head.weight'));
    applyStrategy(model, 'feature-extraction');
    assert.deepEqual(names(), ['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
    // The embedding stage's prefixes include parameters (cls_token, pos_embed): they have no mode to set.
    setTrainingMode(model, model.stages(), 13, true);
    assert.equal(model.getSubmodule('blocks.11').training, false);
    assert.equal(model.getSubmodule('head').training, true);
  } finally {
    model.dispose();
  }
});

test('DINOv2 under bf16 autocast: feature extraction on the cached frozen prefix, then fine-tuning with lr decay', async () => {
  const before = liveTensors().count;
  const model = dino();
  const train = await digits();
  const block = (): number[] => model.stateDict().get('blocks.5.attn.qkv.weight')!.toFlatArray().slice(0, 50);
  const norm = (): number[] => model.stateDict().get('norm.weight')!.toFlatArray();
  const [blockStart, normStart] = [block(), norm()];
  const learn = new Learner({ model, train, options: { epochs: 2, batchSize: 10, lr: 1e-3, scheduler: 'none', augment: 'none', seed: 1 }, plan: bf16, quiet: true });
  const r = await learn.featureExtract();
  assert.equal(learn.frozenStages, 13, 'the embedding and 12 blocks frozen');
  assert.equal(learn.startStage, 13, 'batches entered the model after the cached blocks');
  assert.ok(learn.cacheSeconds > 0);
  assert.deepEqual(block(), blockStart, 'the frozen blocks did not move');
  assert.notDeepEqual(norm(), normStart, 'the final norm trains with the head');
  assert.ok(r.history.every((h) => Number.isFinite(h.trainLoss)));

  const ft = await learn.fineTune({ headEpochs: 0, epochs: 1, lrDecay: 0.7 });
  assert.equal(learn.frozenStages, 0);
  assert.ok(Number.isFinite(ft.history[0]!.trainLoss));
  assert.notDeepEqual(block(), blockStart, 'fine-tuning trained the blocks');
  const ev = await evaluateModel(model, new DataLoader(train, { batchSize: 10, mean: model.config.mean, std: model.config.std }), { plan: bf16, classNames: train.classes });
  assert.equal(ev.n, 20);
  model.dispose();
  assert.equal(liveTensors().count, before);
});

test('ConvNeXt: inference plan timing picks among fp32, channels-last and bf16, and a bf16 training step stays close to fp32', () => {
  const before = liveTensors().count;
  manualSeed(2);
  const model = createModel('convnext_tiny', { numClasses: 4, inputSize: [32, 32] });
  try {
    tidy(() => {
      const x = randn([8, 3, 32, 32]);
      const y = randint(0, 4, [8]);
      const plan = tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: false, precision: 'auto', channelsLast: 'auto', device: 'cpu' });
      assert.ok(candidatePlans({ precision: 'auto', channelsLast: 'auto', device: 'cpu' }).some((c) => c.bf16 === plan.bf16 && c.channelsLast === plan.channelsLast));
      model.train();
      const loss32 = F.crossEntropy(planForward(model, x, fp32), y);
      const loss16 = F.crossEntropy(planForward(model, x, bf16), y);
      loss16.backward();
      assert.ok(Math.abs(loss16.item() - loss32.item()) < 0.05 * Math.abs(loss32.item()), `bf16 loss ${loss16.item()} against fp32 ${loss32.item()}`);
      assert.ok(model.parameters().every((p) => p.grad === null || p.grad.unary('isfinite').sum().item() === p.numel));
      model.zeroGrad();
    });
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('few-shot heads on DINOv2: ncm and probe stand on the class token + mean patch token (2 x 384 features)', async () => {
  const before = liveTensors().count;
  const train = await digits();
  for (const mode of ['ncm', 'probe'] as const) {
    const model = dino();
    const loader = new DataLoader(train, { batchSize: 10, mean: model.config.mean, std: model.config.std });
    const r = await fitFewShotHead(model, { mode, support: loader, numClasses: 10, plan: fp32 });
    assert.equal(r.featureDim, 768);
    assert.equal(r.supportImages, 20);
    const ev = await evaluateModel(model, loader, { plan: fp32, classNames: train.classes });
    assert.ok(ev.accuracy > 0.3, `${mode}: support-set accuracy ${ev.accuracy}`);
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('AdaBN refuses ConvNeXt, ViT and DINOv2 (no BatchNorm) with one clear error', async () => {
  const target = withoutLabels(await digits());
  for (const [name, size] of [['dinov2_vits14', 28], ['vit_b_16', 32], ['convnext_tiny', 32]] as const) {
    const model = createModel(name, { numClasses: 10, inChannels: 1, inputSize: [size, size] });
    const said = (e: unknown): boolean => e instanceof TlcvError && e.code === 'MODEL' && e.message === `adabn recomputes BatchNorm statistics, but ${name} has no BatchNorm layer: use dann or pseudo-label with this model, or a model with BatchNorm (resnet18, mobilenet_v2)`;
    await assert.rejects(adaptBatchNorm(model, new DataLoader(target, { batchSize: 10, mean: model.config.mean, std: model.config.std }), fp32), said);
    await assert.rejects(adaptModel(model, { method: 'adabn', target }), said);
    model.dispose();
  }
});
