// Faults in `tlcv pretrain --nproc 2`, checkpointing every epoch: after a kill -9 of every
// process (launcher and workers) once epoch 1 is on disk, `--resume --nproc 2` ends with the
// metrics.jsonl (byte for byte) and the weights of an uninterrupted two-process run; after a
// kill -9 of rank 1 alone, rank 0 exits naming rank 1 within the collective timeout, the
// launcher exits 1 naming the first failure (rank 1, SIGKILL), the checkpoint is whole, and
// resuming from it ends on the same metrics too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { pollUntil, startCli } from './helpers/cli-async.js';
import { workerPids } from './helpers/worker-pids.js';
import { readSafetensorsMetadata } from '../src/io/safetensors.js';
import { readCheckpoint } from '../src/train/index.js';
import { disposeAll } from '../src/tensor/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-dist-faults-'));
after(() => rmSync(root, { recursive: true, force: true }));

// 270 training images in global batches of 18: 15 steps an epoch, about a second each.
const args = ['pretrain', '--data', 'mnist:train@k=30', '--epochs', '3', '--batch-size', '18', '--precision', 'fp32', '--channels-last', 'off', '--threads', '2', '--quiet', '--checkpoint-every', '0', '--nproc', '2', '--dist-timeout', '5'];

function checkpointEpoch(dir: string): number | undefined {
  try {
    return (JSON.parse(readSafetensorsMetadata(join(dir, 'checkpoint.safetensors')).state!) as { epoch: number }).epoch;
  } catch {
    return undefined; // not written yet
  }
}

const whole = join(root, 'whole');
const reference = runCli([...args, '--out', whole]);

/** Starts the run into `dir`; resolves once epoch 1's checkpoint is on disk, with the launcher and its workers. */
async function startUntilEpoch1(dir: string): Promise<{ run: ReturnType<typeof startCli>; pids: Map<number, number> }> {
  const run = startCli([...args, '--out', dir]);
  let exited = false;
  void run.done.then(() => (exited = true));
  const seen = await pollUntil(() => (exited ? -1 : checkpointEpoch(dir)), { everyMs: 5, what: 'the checkpoint of epoch 1' });
  if (seen < 1) assert.fail(`the run ended before writing a checkpoint: ${(await run.done).stderr}`);
  const pids = workerPids(run.child.pid!);
  assert.deepEqual([...pids.keys()].sort(), [0, 1], 'both workers are running');
  return { run, pids };
}

function resumeMatchesWhole(dir: string): void {
  const resumed = runCli([...args, '--out', dir, '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'), readFileSync(join(whole, 'metrics.jsonl'), 'utf8'));
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors'))), 'same final weights');
}

test('the uninterrupted two-process run', () => {
  assert.equal(reference.code, 0, reference.stderr);
  assert.equal(readFileSync(join(whole, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
});

test('kill -9 of the launcher and both workers after epoch 1, then --resume: the metrics and weights of the uninterrupted run', async () => {
  const dir = join(root, 'all-killed');
  const { run, pids } = await startUntilEpoch1(dir);
  run.child.kill('SIGKILL');
  for (const pid of pids.values()) process.kill(pid, 'SIGKILL');
  await run.done;
  resumeMatchesWhole(dir);
});

test('kill -9 of rank 1: rank 0 names it within the timeout, the launcher exits 1 naming it, the checkpoint is whole and resumes', async () => {
  const dir = join(root, 'rank1-killed');
  const { run, pids } = await startUntilEpoch1(dir);
  const killedAt = performance.now();
  process.kill(pids.get(1)!, 'SIGKILL');
  const r = await run.done;
  const seconds = (performance.now() - killedAt) / 1000;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^tlcv pretrain: data-parallel training failed on rank 0 of 2: rank 1 \\(pid ${pids.get(1)} on [^)]+\\) stopped: no heartbeat`, 'm'));
  assert.match(r.stderr, new RegExp(`^tlcv pretrain: data-parallel run failed: worker rank 1 \\(local rank 1, pid ${pids.get(1)}\\) was killed by SIGKILL; then worker rank 0 \\(local rank 0, pid \\d+\\) exited with code 2$`, 'm'));
  // Rank 0's reason is on screen once: the summary names the workers, it does not quote it again.
  assert.equal(r.stderr.split('no heartbeat').length - 1, 1, r.stderr);
  // Noticed within a few heartbeats (the timeout is 5 s), and no stack trace anywhere.
  assert.ok(seconds < 5 + 3, `the launcher ended ${seconds.toFixed(1)} s after the kill`);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m);
  const c = readCheckpoint(dir);
  assert.ok(c.run.epoch >= 1 && c.run.epoch < 3, `checkpoint epoch ${c.run.epoch}`);
  disposeAll([...c.model.values(), ...c.optimizer.values()]);
  resumeMatchesWhole(dir);
});
