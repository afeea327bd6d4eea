// The Learner, data-parallel: two processes on loopback, each a Learner with the DataParallel
// callback, end with the weights of one process at the same global batch (SGD with momentum,
// no dropout, no BatchNorm) within 1e-5 relative, and with its metrics: the epoch's loss and
// accuracy summed over the ranks, validation sharded (9 images: 5 and 4) and summed. Both with
// every step through the whole model and with the frozen block's outputs cached, each rank
// computing its shard of the cache. The ranks start from different weights (seed + rank).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchWorkers, resolveLaunch } from '../src/distributed/index.js';
import { learnTiny, type LearnerOutcome, type LearnerSpec } from './helpers/dist-learner.js';
import { maxRelative } from './helpers/assert-close.js';

const scratch = mkdtempSync(join(tmpdir(), 'tlcv-dist-learner-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const worker = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'dist-learner-worker.js');

// 60 images in global batches of 12 (6 per rank): 5 steps an epoch, 3 epochs, reshuffled each.
const SPEC: Omit<LearnerSpec, 'mode'> = { n: 60, nVal: 9, batchSize: 12, epochs: 3, initSeed: 7 };

async function runTwo(mode: LearnerSpec['mode']): Promise<LearnerOutcome> {
  const out = join(scratch, `${mode}.json`);
  const lines: string[] = [];
  const result = await launchWorkers({
    plan: resolveLaunch({ nproc: 2 }, {}),
    args: [worker, JSON.stringify({ ...SPEC, mode }), out],
    threads: 2,
    onLine: (rank, _stream, line) => lines.push(`[rank ${rank}] ${line}`),
  });
  assert.ok(result.ok, `${result.summary}\n${lines.join('\n')}`);
  return JSON.parse(readFileSync(out, 'utf8')) as LearnerOutcome;
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));

for (const mode of ['train', 'cached'] as const) {
  test(`two Learners with DataParallel (${mode === 'train' ? 'the whole model each step' : 'cached frozen outputs'}) match one within 1e-5`, async () => {
    const one = await learnTiny({ ...SPEC, mode }, null);
    const two = await runTwo(mode);
    assert.equal(one.liveTensorsAfter, one.liveTensorsBefore, 'live tensors after the one-process run');
    assert.equal(two.liveTensorsAfter, two.liveTensorsBefore, 'live tensors on rank 0 after the run');
    assert.equal(two.startStage, mode === 'cached' ? 1 : 0, 'the cached run trains from the head');
    assert.equal(two.steps, one.steps, 'the same number of steps');
    assert.equal(one.steps, SPEC.epochs * 5);
    const { worst, where } = maxRelative(two.weights, one.weights);
    assert.ok(worst <= 1e-5, `worst relative difference ${worst.toExponential(2)} at ${where}`);
    // Training moved the weights: a run that did nothing could not pass the comparison above by accident.
    assert.ok(one.history.at(-1)!.trainLoss < one.history[0]!.trainLoss, `loss ${one.history[0]!.trainLoss} -> ${one.history.at(-1)!.trainLoss}`);
    assert.equal(two.history.length, one.history.length);
    two.history.forEach((h, i) => {
      const r = one.history[i]!;
      for (const k of ['trainLoss', 'valLoss'] as const) assert.ok(close(h[k]!, r[k]!), `epoch ${i + 1} ${k}: ${h[k]} vs ${r[k]}`);
      // Counts over all ranks: the same images right as one process, as fractions of the same totals.
      assert.deepEqual([h.trainAcc, h.valAcc, h.lr], [r.trainAcc, r.valAcc, r.lr], `epoch ${i + 1}`);
    });
  });
}
