import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, type ClassifierModel } from '../src/models/index.js';
import { cpuHasFastBf16, keep, liveTensors, manualSeed, randint, randn, type Tensor } from '../src/tensor/index.js';
import { candidatePlans, describePlan, tunePlan } from '../src/execution/index.js';

function withCache<T>(fn: (path: string) => T): T {
  const before = process.env.TLCV_PLAN_CACHE;
  const path = join(mkdtempSync(join(tmpdir(), 'tlcv-plans-')), 'plans.json');
  process.env.TLCV_PLAN_CACHE = path;
  try {
    return fn(path);
  } finally {
    if (before === undefined) delete process.env.TLCV_PLAN_CACHE;
    else process.env.TLCV_PLAN_CACHE = before;
  }
}

function bufferValues(model: ClassifierModel): Map<string, number[]> {
  return new Map([...model.namedBuffers()].map(([k, v]) => [k, v.toFlatArray()]));
}

function sample(): { model: ClassifierModel; x: Tensor; y: Tensor } {
  manualSeed(3);
  const model = createModel('resnet18', { numClasses: 4, inChannels: 3, inputSize: [32, 32] });
  return { model, x: keep(randn([8, 3, 32, 32])), y: keep(randint(0, 4, [8])) };
}

type Base = { model: ClassifierModel; stages: ReturnType<ClassifierModel['stages']>; frozenStages: number; x: Tensor; y: Tensor; device: string };

/** A fresh plan cache and a sample model and batch, disposed after fn. */
function withSample(fn: (path: string, base: Base) => void): void {
  withCache((path) => {
    const { model, x, y } = sample();
    try {
      fn(path, { model, stages: model.stages(), frozenStages: 0, x, y, device: 'cpu' });
    } finally {
      model.dispose();
      x.dispose();
      y.dispose();
    }
  });
}

test('a pinned precision and layout leave one plan, nothing to time', () => {
  assert.deepEqual(candidatePlans({ precision: 'fp32', channelsLast: false, device: 'cpu' }), [{ bf16: false, channelsLast: false, device: 'cpu' }]);
  assert.deepEqual(candidatePlans({ precision: 'bf16', channelsLast: true, device: 'cpu' }), [{ bf16: true, channelsLast: true, device: 'cpu' }]);
  const auto = candidatePlans({ precision: 'auto', channelsLast: 'auto', device: 'cpu' }).map(describePlan);
  assert.deepEqual(auto, cpuHasFastBf16() ? ['fp32 on cpu', 'fp32 + channels-last on cpu', 'bf16 autocast + channels-last on cpu'] : ['fp32 on cpu', 'fp32 + channels-last on cpu']);
  assert.deepEqual(candidatePlans({ precision: 'fp32', channelsLast: 'auto', device: 'cpu' }).map(describePlan), ['fp32 on cpu', 'fp32 + channels-last on cpu']);
});

test('tunePlan times the candidates, keeps BatchNorm statistics and caches its choice', () => {
  withCache((path) => {
    const { model, x, y } = sample();
    const live = liveTensors().count;
    const before = bufferValues(model);
    const logs: string[] = [];
    const plan = tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: true, precision: 'auto', channelsLast: 'auto', device: 'cpu', log: (m) => logs.push(m) });
    assert.equal(logs.length, 1, 'the timing is reported once');
    assert.match(logs[0]!, /timed training plans \(images\/s\): fp32 on cpu \d+\/s, fp32 \+ channels-last on cpu \d+\/s/);
    assert.deepEqual(bufferValues(model), before, 'running statistics are restored after the timed steps');
    for (const p of model.parameters()) assert.equal(p.grad, null, 'no gradient is left behind');
    const conv = model.getSubmodule('conv1').namedParameters().get('weight')!;
    assert.equal(conv.strides()[1] === 1, plan.channelsLast, 'the model is left in the chosen layout');
    assert.equal(liveTensors().count, live, 'the timing frees what it made');
    const cache = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.values(cache), [plan]);

    // A second run takes the cached plan without timing: same seed, same plan, same metrics.
    const again: string[] = [];
    assert.deepEqual(tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: true, precision: 'auto', channelsLast: 'auto', device: 'cpu', log: (m) => again.push(m) }), plan);
    assert.deepEqual(again, []);
    model.dispose();
    x.dispose();
    y.dispose();
  });
});

test('a cached plan is honoured, and a damaged cache only costs a new timing', () => {
  withSample((path, base) => {
    const req = { ...base, train: false, precision: 'auto' as const, channelsLast: 'auto' as const };
    tunePlan(req);
    const key = Object.keys(JSON.parse(readFileSync(path, 'utf8')) as object)[0]!;
    writeFileSync(path, JSON.stringify({ [key]: { bf16: false, channelsLast: true, device: 'cpu' } }));
    assert.deepEqual(tunePlan(req), { bf16: false, channelsLast: true, device: 'cpu' });
    writeFileSync(path, '{not json');
    const logs: string[] = [];
    const plan = tunePlan({ ...req, log: (m) => logs.push(m) });
    assert.equal(logs.length, 1);
    assert.ok(candidatePlans(req).some((c) => c.bf16 === plan.bf16 && c.channelsLast === plan.channelsLast));
  });
});

test('a choice made among fewer candidates (a run pinned to fp32) is not reused by an auto run', () => {
  withSample((path, sampled) => {
    const base = { ...sampled, train: false };
    const pinned = tunePlan({ ...base, precision: 'fp32', channelsLast: 'auto' });
    assert.equal(pinned.bf16, false);
    const logs: string[] = [];
    tunePlan({ ...base, precision: 'auto', channelsLast: 'auto', log: (m) => logs.push(m) });
    // Without native bf16 both runs choose among the same plans, and the choice is shared.
    const distinct = cpuHasFastBf16();
    assert.equal(logs.length, distinct ? 1 : 0, 'the auto run timed its own candidates');
    assert.equal(Object.keys(JSON.parse(readFileSync(path, 'utf8')) as object).length, distinct ? 2 : 1);
  });
});

test('a checkpoint records the plan its run trained with, for --resume to continue with it', async () => {
  const { TINY_CONFIG, TinyNet, tinyDataset } = await import('./helpers/tiny-model.js');
  const { DataLoader } = await import('../src/data/index.js');
  const { Learner, Checkpoint, readCheckpointPlan } = await import('../src/train/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-plan-ckpt-'));
  assert.equal(readCheckpointPlan(dir), null, 'no checkpoint, no plan');
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  const plan = { bf16: false, channelsLast: true, device: 'cpu' };
  await new Learner({
    model,
    train: new DataLoader(tinyDataset(16), { batchSize: 8, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std }),
    options: { epochs: 1, batchSize: 8, seed: 1 },
    plan,
    callbacks: [new Checkpoint(dir, { signals: false })],
    quiet: true,
  }).fit();
  assert.deepEqual(readCheckpointPlan(dir), { bf16: false, channelsLast: true });
  model.dispose();
});
