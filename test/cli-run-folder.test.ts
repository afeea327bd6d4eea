// The run folder through the real binary: a second `tlcv pretrain` into a folder that holds a
// model is refused (exit 2, one line, the folder untouched) unless --overwrite replaces it or
// --resume continues it; --overwrite leaves nothing of the old run; a folder of other files is
// never used. Checkpoints are by time: a short run writes one, at its end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { assertUnchanged, snapshot } from './helpers/fs-snapshot.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-run-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));

const args = ['pretrain', '--data', 'mnist:train@k=3', '--epochs', '2', '--batch-size', '8', '--threads', '1', '--quiet'];
const epochsIn = (dir: string): number => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;

test('a folder holding a model is refused, replaced with --overwrite, continued with --resume', () => {
  const out = join(root, 'model');
  const first = runCli([...args, '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(epochsIn(out), 2);

  const before = snapshot(out);
  const again = runCli([...args, '--seed', '1', '--out', out]);
  assert.equal(again.code, 2, again.stderr);
  assert.doesNotMatch(again.stderr, STACK_LINE);
  assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
  assert.match(again.stderr, /^tlcv pretrain: --out .*model already holds a trained model \(.*model\.safetensors.*\): pass --overwrite to replace it, --resume to continue it, or choose another folder$/m);
  assertUnchanged(out, before, 'a refused pretrain');

  // A finished run keeps its model, metrics and report, not its training state (issue 19): no
  // checkpoint is left to resume, and --resume says so, changing nothing.
  assert.equal(existsSync(join(out, 'checkpoint.safetensors')), false, 'the checkpoint goes when the run finishes');
  const resumed = runCli([...args, '--resume', '--out', out]);
  assert.equal(resumed.code, 2, resumed.stderr);
  assert.match(resumed.stderr, /^tlcv pretrain: --resume: the run in .*model has finished: nothing to resume \(a finished run keeps its model, not its checkpoint, unless --keep-checkpoint\)$/m);
  assertUnchanged(out, before, 'a --resume of a finished run');

  // --keep-checkpoint keeps it; resuming that finished run has nothing left to train.
  const kept = join(root, 'kept');
  assert.equal(runCli([...args, '--keep-checkpoint', '--out', kept]).code, 0);
  assert.ok(existsSync(join(kept, 'checkpoint.safetensors')));
  const metrics = readFileSync(join(kept, 'metrics.jsonl'), 'utf8');
  const again2 = runCli([...args, '--keep-checkpoint', '--resume', '--out', kept]);
  assert.equal(again2.code, 0, again2.stderr);
  assert.equal(readFileSync(join(kept, 'metrics.jsonl'), 'utf8'), metrics, 'a finished run resumed has nothing left to train');

  writeFileSync(join(out, 'report.html'), 'a report from before');
  const replaced = runCli([...args, '--seed', '1', '--epochs', '1', '--overwrite', '--out', out]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(epochsIn(out), 1, 'metrics of the new run only');
  assert.notEqual(readFileSync(join(out, 'report.html'), 'utf8'), 'a report from before');
  assert.equal((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { provenance: { options: { seed: number } } }).provenance.options.seed, 1);
});

test('a folder of other files is never trained into, --overwrite or not', () => {
  const out = join(root, 'photos');
  mkdirSync(out);
  writeFileSync(join(out, 'holiday.jpg'), 'not ours');
  for (const extra of [[], ['--overwrite']]) {
    const r = runCli([...args, ...extra, '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^tlcv pretrain: --out .*photos already holds other files \(holiday\.jpg\): choose an empty or new folder$/m);
  }
  assert.equal(existsSync(join(out, 'model.safetensors')), false);
});
