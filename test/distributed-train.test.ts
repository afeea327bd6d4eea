// Data-parallel equivalence, two processes on loopback started by tlcv's launcher: with the same
// global batch and seed, SGD with momentum and no dropout, two workers end with the weights of one
// process (within 1e-5 relative), whichever way the gradients are averaged: c10d's Reducer
// overlapping backward, or an allreduce after backward. The workers start from different random
// weights (seed + rank), so only the broadcast from rank 0 can make them agree.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchWorkers, resolveLaunch } from '../src/distributed/index.js';
import { trainTiny, type TrainOutcome, type TrainSpec } from './helpers/dist-train.js';
import { PEER_PYTHON } from './helpers/peer.js';
import { maxRelative } from './helpers/assert-close.js';

const scratch = mkdtempSync(join(tmpdir(), 'tlcv-dist-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const worker = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'dist-train-worker.js');

// 48 images, 6 per worker and step: 4 steps an epoch, so the 8 steps cross an epoch (a reshuffle).
const SPEC: Omit<TrainSpec, 'mode'> = { n: 48, batch: 6, steps: 8, seed: 3, initSeed: 11, lr: 0.2, momentum: 0.9 };

async function runTwo(mode: TrainSpec['mode']): Promise<TrainOutcome> {
  const out = join(scratch, `${mode}.json`);
  const lines: string[] = [];
  const result = await launchWorkers({
    plan: resolveLaunch({ nproc: 2 }, {}),
    args: [worker, JSON.stringify({ ...SPEC, mode }), out, '200', '30000'],
    threads: 2,
    onLine: (rank, _stream, line) => lines.push(`[rank ${rank}] ${line}`),
  });
  assert.ok(result.ok, `${result.summary}\n${lines.join('\n')}`);
  assert.deepEqual(
    result.workers.map((w) => [w.rank, w.code]),
    [
      [0, 0],
      [1, 0],
    ],
  );
  return JSON.parse(readFileSync(out, 'utf8')) as TrainOutcome;
}

const single = await trainTiny({ ...SPEC, batch: 2 * SPEC.batch, mode: 'after' }, null);

test('the reference run trains, and a different batch would end elsewhere (the tolerance can fail)', async () => {
  assert.ok(single.losses[7]! < single.losses[0]!, `loss went from ${single.losses[0]} to ${single.losses[7]}`);
  assert.equal(single.liveTensorsAfter, single.liveTensorsBefore, 'live tensors after the run');
  const halfBatch = await trainTiny({ ...SPEC, mode: 'after' }, null);
  assert.ok(maxRelative(halfBatch.weights, single.weights).worst > 1e-3);
});

const MODES: Record<TrainSpec['mode'], string> = {
  overlap: "c10d's Reducer during backward",
  after: 'allreduce after backward',
  'overlap-sync': "c10d's Reducer during backward, blocking",
  'after-sync': 'allreduce after backward, blocking',
  prepare: "the loop's own backward, armed by prepareForBackward",
};

for (const mode of Object.keys(MODES) as TrainSpec['mode'][]) {
  test(`two processes (${MODES[mode]}) match one process within 1e-5 relative`, async () => {
    const two = await runTwo(mode);
    const { worst, where } = maxRelative(two.weights, single.weights);
    assert.ok(worst <= 1e-5, `worst relative difference ${worst.toExponential(2)} at ${where}`);
    console.log(`${mode}: worst relative difference ${worst.toExponential(2)} at ${where}`);
    // Each step's loss, averaged over the ranks, is the single process's loss on the same global batch.
    assert.equal(two.losses.length, single.losses.length);
    two.losses.forEach((l, i) => assert.ok(Math.abs(l - single.losses[i]!) <= 1e-5 * Math.abs(single.losses[i]!), `step ${i + 1}: loss ${l} vs ${single.losses[i]}`));
    assert.ok(two.buckets >= 1);
    assert.equal(two.liveTensorsAfter, two.liveTensorsBefore, 'live tensors on rank 0 after the run');
  });
}

test("under PyTorch's torchrun (its agent serves the store), tlcv workers train the same", async () => {
  const out = join(scratch, 'torchrun.json');
  const port = await freePort();
  // --redirects/--tee: Debian's torchrun 1.13 on Python 3.11 cannot parse their default (see src/bench/distributed/run.ts).
  const r = spawnSync(
    PEER_PYTHON,
    ['-m', 'torch.distributed.run', '--redirects=2', '--tee=2', '--nproc_per_node=2', '--master_addr=127.0.0.1', `--master_port=${port}`, '--no_python', process.execPath, worker, JSON.stringify({ ...SPEC, mode: 'overlap' }), out, '200', '30000'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, `torchrun failed:\n${r.stderr.slice(-3000)}`);
  const two = JSON.parse(readFileSync(out, 'utf8')) as TrainOutcome;
  const { worst, where } = maxRelative(two.weights, single.weights);
  assert.ok(worst <= 1e-5, `worst relative difference ${worst.toExponential(2)} at ${where}`);
});
