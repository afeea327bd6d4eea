// Batch size and epochs chosen from the data and the memory (issue 22): the pure rules with an
// injected memory measurement, the warning of a run with too few optimiser steps, --max-memory's
// parser, and the step-memory measurement, which must leave the model as it found it (weights,
// BatchNorm statistics, gradients, training flags) and draw nothing from the random generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_BATCH_CAP, FEW_STEPS, MIN_AUTO_STEPS, chooseBatchSize, chooseEpochs, defaultMaxMemory, fewStepsWarning, measureStepMemory, predictedPeak, stepsPerEpoch, type MemoryPlan, type StepMemory } from '../src/train/index.js';
import { MAX_AUTO_EPOCHS } from '../src/train/auto-size.js';
import { createModel } from '../src/models/index.js';
import { liveTensors, manualSeed, rand, tidy } from '../src/tensor/index.js';
import { parseMemorySize } from '../src/cli/train-flags.js';

const GiB = 2 ** 30;
const MB = 1e6;
const step = (perImageMB: number, fixedMB = 40): StepMemory => ({ perImageBytes: perImageMB * MB, fixedBytes: fixedMB * MB, method: 'peak' });
const budget = (gib: number, s: StepMemory | null, baseMB = 300, stateMB = 90): MemoryPlan => ({ budgetBytes: gib * GiB, baseBytes: baseMB * MB, stateBytes: stateMB * MB, step: s });

test('the batch follows the data: at most an eighth of it, a power of two, at most 128', () => {
  assert.equal(chooseBatchSize({ trainImages: 48 }).batchSize, 4);
  assert.equal(chooseBatchSize({ trainImages: 48 }).limitedBy, 'data');
  assert.equal(chooseBatchSize({ trainImages: 32 }).batchSize, 4);
  assert.equal(chooseBatchSize({ trainImages: 1000 }).batchSize, 64);
  assert.equal(chooseBatchSize({ trainImages: 5 }).batchSize, 1);
  const large = chooseBatchSize({ trainImages: 54_000 });
  assert.deepEqual([large.batchSize, large.limitedBy, large.predictedBytes], [AUTO_BATCH_CAP, 'cap', null]);
  for (const n of [9, 16, 100, 777, 1024, 5000]) {
    const b = chooseBatchSize({ trainImages: n }).batchSize;
    assert.ok(b <= n / 8 && Number.isInteger(Math.log2(b)), `${n} images: batch ${b}`);
  }
});

test('the batch stays within the memory budget, as the injected measurement predicts it', () => {
  // resnet18 at 224 px: 21 MB an image.
  const r18 = chooseBatchSize({ trainImages: 5000, memory: budget(2.5, step(21)) });
  assert.equal(r18.limitedBy, 'memory');
  assert.ok(r18.batchSize >= 16 && r18.batchSize % 8 === 0 && r18.batchSize < AUTO_BATCH_CAP, `batch ${r18.batchSize}`);
  assert.ok(r18.predictedBytes! <= 2.5 * GiB);
  const m = budget(2.5, step(21)) as MemoryPlan & { step: StepMemory };
  assert.ok(predictedPeak(m, r18.batchSize + 8) > 2.5 * GiB, 'the next multiple of 8 would not fit');
  // Twice the cost an image: a smaller batch; a cheap step: the data's limit stands.
  assert.ok(chooseBatchSize({ trainImages: 5000, memory: budget(2.5, step(42)) }).batchSize < r18.batchSize);
  const cheap = chooseBatchSize({ trainImages: 5000, memory: budget(2.5, step(0.5)) });
  assert.deepEqual([cheap.batchSize, cheap.limitedBy], [128, 'cap']);
  // Not measured: the data alone decides.
  assert.equal(chooseBatchSize({ trainImages: 5000, memory: budget(2.5, null) }).batchSize, 128);
  // Below 16 a batch is not rounded to 8.
  const tight = chooseBatchSize({ trainImages: 5000, memory: budget(1, step(80, 1), 250, 17) });
  assert.ok(tight.batchSize >= 1 && tight.batchSize < 8 && tight.limitedBy === 'memory', `batch ${tight.batchSize}`);
  assert.equal(tight.overBudget, false);
  const hopeless = chooseBatchSize({ trainImages: 5000, memory: budget(0.5, step(400)) });
  assert.deepEqual([hopeless.batchSize, hopeless.overBudget], [1, true]);
});

test('a data-parallel global batch is a multiple of the processes, and the memory limit is per process', () => {
  for (const world of [2, 3, 4]) {
    for (const n of [10, 48, 1000, 5000]) {
      const c = chooseBatchSize({ trainImages: n, worldSize: world, memory: budget(2.5, step(21)) });
      assert.equal(c.batchSize % world, 0, `${n} images on ${world}: ${c.batchSize}`);
      assert.ok(c.batchSize >= world);
    }
  }
  const one = chooseBatchSize({ trainImages: 50_000, memory: budget(2.5, step(21)) }).batchSize;
  const two = chooseBatchSize({ trainImages: 50_000, worldSize: 2, memory: budget(2.5, step(21)) }).batchSize;
  assert.equal(two, Math.min(AUTO_BATCH_CAP, 2 * one), 'each of two processes holds its own half');
});

test('epochs: today\u2019s 10 on large data, enough for the minimum of steps on small data, within bounds', () => {
  assert.equal(chooseEpochs({ trainImages: 54_000, batchSize: 128 }), 10);
  assert.equal(chooseEpochs({ trainImages: 32, batchSize: 4 }), Math.ceil(MIN_AUTO_STEPS / 8));
  assert.equal(chooseEpochs({ trainImages: 48, batchSize: 128 }), MAX_AUTO_EPOCHS);
  for (const n of [8, 20, 50, 300, 2000]) {
    const b = chooseBatchSize({ trainImages: n }).batchSize;
    const e = chooseEpochs({ trainImages: n, batchSize: b });
    assert.ok(stepsPerEpoch(n, b) * e >= MIN_AUTO_STEPS && e >= 10 && e <= MAX_AUTO_EPOCHS, `${n} images: ${e} epochs of batch ${b}`);
  }
  assert.equal(stepsPerEpoch(10, 4, true), 2);
  assert.equal(stepsPerEpoch(10, 4, false), 3);
});

test('a run of fewer than 20 optimiser steps is told so in one line naming the fix, and only then', () => {
  // The run: 48 training photos, the old batch of 128, --epochs 2.
  const w = fewStepsWarning({ trainImages: 48, batchSize: 128, epochs: 2 });
  assert.ok(w !== null);
  assert.equal(w.split('\n').length, 1);
  assert.match(w, /2 optimiser steps/);
  assert.match(w, /--epochs \d+/);
  assert.match(w, /--batch-size 4/);
  assert.equal(fewStepsWarning({ trainImages: 48, batchSize: 4, epochs: 2 }), null, '24 steps');
  assert.equal(fewStepsWarning({ trainImages: 54_000, batchSize: 128, epochs: 1 }), null);
  assert.ok(fewStepsWarning({ trainImages: 19, batchSize: 1, epochs: 1 }) !== null, `${FEW_STEPS - 1} steps`);
  assert.equal(fewStepsWarning({ trainImages: 20, batchSize: 1, epochs: 1 }), null);
  // The batch is already an eighth of the data: only more epochs are suggested.
  assert.doesNotMatch(fewStepsWarning({ trainImages: 64, batchSize: 8, epochs: 2 })!, /--batch-size/);
});

test('--max-memory sizes and the default budget', () => {
  assert.equal(parseMemorySize('2.5G'), 2.5 * GiB);
  assert.equal(parseMemorySize('800M'), 800 * 2 ** 20);
  assert.equal(parseMemorySize('800MiB'), 800 * 2 ** 20);
  assert.equal(parseMemorySize('3'), 3 * GiB);
  assert.equal(parseMemorySize(undefined), undefined);
  for (const bad of ['', 'lots', '-1G', '2.5X', '10K']) assert.throws(() => parseMemorySize(bad), /--max-memory: expected/);
  assert.equal(defaultMaxMemory(16 * GiB), 2.5 * GiB);
  assert.equal(defaultMaxMemory(4 * GiB), 2 * GiB);
});

test('measuring a step leaves weights, BatchNorm statistics, gradients, modes and the random stream as they were', () => {
  manualSeed(7);
  const model = createModel('resnet18', { numClasses: 3, inChannels: 3, inputSize: [64, 64] });
  model.eval();
  const before = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
  const live = liveTensors().count;
  manualSeed(11);
  const m = measureStepMemory(model, [3, 64, 64]);
  const drawn = tidy(() => rand([4]).toFlatArray());
  manualSeed(11);
  assert.deepEqual(tidy(() => rand([4]).toFlatArray()), drawn, 'the generator was not drawn from');
  assert.ok(m !== null);
  // resnet18 keeps about 21 MB an image at 224 px; at 64 px about (64/224)^2 of it.
  assert.ok(m.perImageBytes > 0.5 * MB && m.perImageBytes < 4 * MB, `${m.perImageBytes} bytes an image`);
  assert.ok(m.fixedBytes > 0);
  const changed = tidy(() => [...model.stateDict()].filter(([k, v]) => v.to('float64').sub(before.get(k)!.to('float64')).abs().max().item() !== 0).map(([k]) => k));
  assert.deepEqual(changed, [], 'weights and running statistics unchanged');
  assert.ok(model.parameters().every((p) => p.grad === null), 'no gradients left behind');
  assert.ok([...model.namedModules().values()].every((x) => !x.training), 'still in eval mode');
  assert.equal(liveTensors().count, live, 'no tensor left behind');
  for (const t of before.values()) t.dispose();
  // A second measurement cannot read a new high-water mark, and reads the kept bytes instead.
  const again = measureStepMemory(model, [3, 64, 64])!;
  assert.ok(again.perImageBytes > 0.8 * m.perImageBytes && again.perImageBytes < 1.5 * m.perImageBytes, `${again.method}: ${again.perImageBytes} against ${m.perImageBytes}`);
  model.dispose();
});
