// Training: a NaN or Inf loss stops the run with a message naming the epoch, the step and the
// learning rate, keeps the last good checkpoint as it was (bytes and mtime), and leaks no
// tensor. In the CLI it is a user error (the learning rate is the user's setting): exit 2, one
// line, and a fresh --out folder is not left behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { Checkpoint, Learner, resolveTrainOptions, type BatchSource, type TrainOptions } from '../src/train/index.js';
import { DataLoader, type Batch } from '../src/data/index.js';
import type { ClassifierModel } from '../src/models/index.js';
import type { ExecutionPlan } from '../src/execution/index.js';
import { full, liveTensors, manualSeed } from '../src/tensor/index.js';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-nan-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A DataLoader whose second batch of epoch `badEpoch` holds `value` in every pixel. */
class PoisonedBatches implements BatchSource {
  #epoch = 0;
  constructor(
    private readonly inner: DataLoader,
    private readonly badEpoch: number,
    private readonly value: number,
  ) {}
  get length(): number {
    return this.inner.length;
  }
  setEpoch(epoch: number): void {
    this.#epoch = epoch;
    this.inner.setEpoch(epoch);
  }
  *[Symbol.iterator](): Iterator<Batch> {
    let i = 0;
    for (const b of this.inner) {
      if (this.#epoch === this.badEpoch && i === 1) {
        const x = full(b.x.shape, this.value);
        b.x.dispose();
        yield { x, y: b.y, indices: b.indices };
      } else {
        yield b;
      }
      i += 1;
    }
  }
}

/** A fit checkpointing every epoch (as every run did before checkpoints by time), quietly. */
function fit(o: { model: ClassifierModel; train: BatchSource; options: TrainOptions; plan: ExecutionPlan; outDir: string; resume?: boolean }): Promise<unknown> {
  const checkpoint = new Checkpoint(o.outDir, { everySeconds: 0, resume: o.resume === true, signals: false });
  return new Learner({ model: o.model, train: o.train, options: o.options, plan: o.plan, callbacks: [checkpoint], quiet: true }).fit();
}

for (const value of [NaN, Infinity]) {
  test(`a non-finite loss in epoch 2 (input ${value}) stops fit() and keeps the checkpoint of epoch 1 untouched`, async () => {
    manualSeed(0);
    const model = new TinyNet(TINY_CONFIG);
    const before = liveTensors().count;
    const dir = join(root, `fit-${value}`);
    const loader = new DataLoader(tinyDataset(48), { batchSize: 8, shuffle: true, seed: 0, mean: [0.5], std: [0.5] });
    const options = resolveTrainOptions({ epochs: 3, batchSize: 8, optimizer: 'sgd', scheduler: 'none', lr: 0.05, augment: 'none' });
    const plan = { bf16: false, channelsLast: false, device: 'cpu' };
    await assert.rejects(
      fit({ model, train: new PoisonedBatches(loader, 2, value), options, plan, outDir: dir }),
      (e: unknown) =>
        e instanceof TlcvError &&
        e.code === 'TRAINING' &&
        /loss became (NaN|-?Infinity) at epoch 2, step 2 \(lr 5\.00e-2\)/.test(e.message) &&
        e.message.includes(`${join(dir, 'checkpoint.safetensors')} still holds epoch 1`),
    );
    const meta = readMeta(readFileSync(join(dir, 'checkpoint.safetensors')));
    assert.equal((JSON.parse(meta.state!) as { epoch: number }).epoch, 1, 'the checkpoint is the one of epoch 1');
    assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1, 'metrics.jsonl holds epoch 1 only');
    assert.equal(liveTensors().count, before, 'the optimizer state and the failed step are freed');
    model.dispose();
  });
}

test('the checkpoint written before a failure keeps its bytes and mtime', async () => {
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  const dir = join(root, 'resume-bad');
  const loader = new DataLoader(tinyDataset(48), { batchSize: 8, shuffle: true, seed: 0, mean: [0.5], std: [0.5] });
  const options = resolveTrainOptions({ epochs: 1, batchSize: 8, optimizer: 'sgd', scheduler: 'none', lr: 0.05 });
  const plan = { bf16: false, channelsLast: false, device: 'cpu' };
  await fit({ model, train: loader, options, plan, outDir: dir });
  const path = join(dir, 'checkpoint.safetensors');
  const bytes = readFileSync(path);
  const mtime = statSync(path).mtimeMs;
  // Resume for two more epochs; the first of them diverges.
  await assert.rejects(
    fit({ model, train: new PoisonedBatches(loader, 2, NaN), options: { ...options, epochs: 3 }, plan, outDir: dir, resume: true }),
    (e: unknown) => e instanceof TlcvError && /at epoch 2, step 2/.test(e.message) && /still holds epoch 1/.test(e.message),
  );
  assert.ok(readFileSync(path).equals(bytes), 'same bytes');
  assert.equal(statSync(path).mtimeMs, mtime, 'not rewritten');
  model.dispose();
});

test('tlcv pretrain with a learning rate that diverges: exit 2, one line naming the loss and --lr, no folder left', () => {
  const out = join(root, 'cli-diverge');
  const r = runCli(['pretrain', '--data', 'mnist:train@k=5', '--epochs', '2', '--batch-size', '16', '--optimizer', 'sgd', '--scheduler', 'none', '--lr', '1e6', '--threads', '1', '--quiet', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  // 45 images at batch 16 for 2 epochs are 6 steps: the few-steps warning comes first (issue 22).
  const all = r.stderr.trim().split('\n');
  assert.match(all[0]!, /^warning: 6 optimiser steps .* too few to learn from: try --epochs \d+ or --batch-size \d+$/);
  const lines = all.filter((l) => !l.startsWith('warning: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^tlcv pretrain: loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+ \(lr 1\.00e\+6\): training stopped; no epoch had finished, so nothing was saved \(try a lower --lr\)$/);
  assert.equal(existsSync(out), false, '--out was not created');
});

function readMeta(bytes: Buffer): Record<string, string> {
  const n = Number(bytes.readBigUInt64LE(0));
  return (JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__: Record<string, string> }).__metadata__;
}
