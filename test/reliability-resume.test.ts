// Crashes: a `kill -9` in the middle of `tlcv pretrain`, then the same command with --resume,
// ends with the metrics.jsonl (byte for byte) and the weights of an uninterrupted run with the
// same seed, with and without augmentation. The kill can land between an epoch's metrics line
// and its checkpoint, or in the middle of that line: one case recreates that window on purpose.
// Checkpoints are written atomically: a reader polling the file during a run parses every
// version it sees. These runs checkpoint every epoch (--checkpoint-every 0), so that a kill can
// land between checkpoints; with the default (by time, every 60 s), SIGTERM writes the newest
// finished epoch and the run resumes exactly from it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { pollUntil, startCli } from './helpers/cli-async.js';
import { parseSafetensors, readSafetensorsMetadata } from '../src/io/safetensors.js';
import { disposeAll } from '../src/tensor/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-resume-'));
after(() => rmSync(root, { recursive: true, force: true }));

// 360 training images in 23 steps per epoch: long enough (about a second an epoch) for the
// kill to land inside the run, short enough for the whole file to take seconds.
const base = ['pretrain', '--data', 'mnist:train@k=40', '--epochs', '3', '--batch-size', '16', '--threads', '1', '--quiet', '--checkpoint-every', '0'];

function checkpointEpoch(dir: string): number | undefined {
  try {
    const meta = readSafetensorsMetadata(join(dir, 'checkpoint.safetensors'));
    return (JSON.parse(meta.state!) as { epoch: number }).epoch;
  } catch {
    return undefined; // not written yet
  }
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

for (const augment of ['none', 'light']) {
  test(`kill -9 after epoch 1, then --resume: same metrics.jsonl and weights as an uninterrupted run (augment ${augment})`, async () => {
    const args = [...base, '--augment', augment];
    const whole = join(root, `whole-${augment}`);
    const r = runCli([...args, '--out', whole]);
    assert.equal(r.code, 0, r.stderr);

    const cut = join(root, `cut-${augment}`);
    const run = startCli([...args, '--out', cut]);
    let exited = false;
    void run.done.then(() => (exited = true));
    const seen = await pollUntil(() => (exited ? -1 : checkpointEpoch(cut)), { everyMs: 5, what: 'the checkpoint of epoch 1' });
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.ok(seen >= 1, `the run ended before writing a checkpoint: ${killed.stderr}`);
    assert.equal(killed.signal, 'SIGKILL', 'the run was still going when it was killed');
    assert.equal(existsSync(join(cut, 'model.safetensors')), false, 'the killed run had not finished');

    const at = checkpointEpoch(cut)!;
    assert.ok(at >= 1 && at < 3, `checkpoint epoch ${at}`);
    if (augment === 'light') {
      // The worst moment for a kill: the next epoch's line is half written, its checkpoint not at all.
      const lines = readFileSync(join(cut, 'metrics.jsonl'), 'utf8').split('\n').slice(0, at);
      writeFileSync(join(cut, 'metrics.jsonl'), `${lines.join('\n')}\n{"epoch":${at + 1},"trainLoss":2.3`);
      // ...and the checkpoint's temp file, as a kill inside the atomic write leaves it.
      writeFileSync(join(cut, `.checkpoint.safetensors.${run.child.pid}.0123456789ab.tmp`), 'half a checkpoint');
    }

    const resumed = runCli([...args, '--out', cut, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readFileSync(join(cut, 'metrics.jsonl'), 'utf8'), readFileSync(join(whole, 'metrics.jsonl'), 'utf8'));
    assert.equal(readFileSync(join(cut, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
    assert.ok(readFileSync(join(cut, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors'))), 'same final weights');
    assert.deepEqual(tempFiles(cut), [], 'no temp file of the killed write is left behind');
  });
}

test('a reader polling checkpoint.safetensors during a run parses every version it sees', async () => {
  const dir = join(root, 'polled');
  const run = startCli([...base, '--keep-checkpoint', '--out', dir]);
  let exited = false;
  void run.done.then(() => (exited = true));
  const epochs = new Set<number>();
  let reads = 0;
  while (!exited) {
    let bytes: Buffer | null = null;
    try {
      bytes = readFileSync(join(dir, 'checkpoint.safetensors'));
    } catch {
      // not there yet
    }
    if (bytes !== null) {
      // Throws (and fails the test) on a torn file: a header that runs past the end, offsets out of range.
      const tensors = parseSafetensors(bytes, `checkpoint read ${reads}`);
      disposeAll(tensors);
      const meta = readMetaFrom(bytes);
      epochs.add((JSON.parse(meta.state!) as { epoch: number }).epoch);
      reads += 1;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const end = await run.done;
  assert.equal(end.code, 0, end.stderr);
  assert.ok(epochs.size >= 2, `saw checkpoint versions of epochs ${[...epochs].join(', ')} in ${reads} reads`);
  assert.ok(statSync(join(dir, 'checkpoint.safetensors')).size > 0);
  assert.deepEqual(tempFiles(dir), []);
});

test('SIGTERM with checkpoints by time: the newest finished epoch is written, exit 143, and --resume ends exactly as an uninterrupted run', async () => {
  // The default interval (60 s) writes no checkpoint in a run this short but the one the signal asks for.
  const args = ['pretrain', '--data', 'mnist:train@k=40', '--epochs', '3', '--batch-size', '16', '--threads', '1', '--augment', 'light'];
  const whole = join(root, 'whole-sigterm');
  const r = runCli([...args, '--out', whole]);
  assert.equal(r.code, 0, r.stderr);

  const cut = join(root, 'cut-sigterm');
  const run = startCli([...args, '--out', cut]);
  let stderr = '';
  run.child.stderr!.on('data', (d: string) => (stderr += d));
  await pollUntil(() => (/^epoch 1\/3 {2}loss/m.test(stderr) ? true : undefined), { everyMs: 5, what: 'the end of epoch 1' });
  assert.equal(existsSync(join(cut, 'checkpoint.safetensors')), false, 'no checkpoint before the signal');
  run.child.kill('SIGTERM');
  const ended = await run.done;
  assert.equal(ended.code, 143, ended.stderr);
  const last = ended.stderr.trim().split('\n').at(-1)!;
  // The signal lands at the end of epoch 1 (the loop turns the event loop once per epoch) or in epoch 2 or 3.
  assert.match(last, /^tlcv pretrain: interrupted by SIGTERM in epoch [123]: .*cut-sigterm\/checkpoint\.safetensors now holds epoch [12], the last that finished; continue with --resume$/);
  assert.doesNotMatch(ended.stderr, STACK_LINE);
  const at = checkpointEpoch(cut)!;
  assert.equal(readFileSync(join(cut, 'metrics.jsonl'), 'utf8').trim().split('\n').length, at, 'metrics.jsonl was written with the checkpoint');

  const resumed = runCli([...args, '--out', cut, '--resume', '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readFileSync(join(cut, 'metrics.jsonl'), 'utf8'), readFileSync(join(whole, 'metrics.jsonl'), 'utf8'));
  assert.ok(readFileSync(join(cut, 'model.safetensors')).equals(readFileSync(join(whole, 'model.safetensors'))), 'same final weights');
});

function readMetaFrom(bytes: Buffer): Record<string, string> {
  const n = Number(bytes.readBigUInt64LE(0));
  return (JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__: Record<string, string> }).__metadata__;
}
