// Bad command lines through the real `tlcv` binary: an unknown command, model or flag, a
// missing required flag, an invalid data spec, and bad values (negative epochs, lr 0, a batch
// larger than the data with --drop-last, a validation fraction that leaves nothing). Each is
// exit code 2 with one line naming the flag, what was expected and what was found, without a
// stack trace, and nothing is written: a new --out is not created, and a refused --resume
// leaves the run's folder as it was.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertUserError, runCli, STACK_LINE } from './helpers/cli.js';
import { assertUnchanged, snapshot } from './helpers/fs-snapshot.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-bad-flags-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** One failing command: exit 2, exactly one line on stderr, nothing on stdout, --out not created. */
function fails(args: (out: string) => string[], line: RegExp): void {
  const out = join(root, `out-${(n += 1)}`);
  assertUserError(args(out), line, { out });
}

const data = ['--data', 'mnist:train@k=2'];

test('an unknown command lists the commands', () => {
  fails(() => ['frobnicate'], /^tlcv: unknown command "frobnicate"\. Commands: pretrain, transfer, adapt, evaluate, predict, demo, models, datasets/);
});

test('an unknown model names it and lists the known ones, before any data is read', () => {
  fails((out) => ['pretrain', ...data, '--arch', 'resnet99', '--out', out], /^tlcv pretrain: unknown model "resnet99": known models are .*resnet18.*seed-cnn/);
  fails((out) => ['transfer', '--model', 'resnet99', ...data, '--out', out], /^tlcv transfer: --model resnet99: no such model folder or weights file, and not a zoo model \(known: .*seed-cnn.*\)/);
});

test('invalid data specs say which part is wrong', () => {
  fails((out) => ['pretrain', '--data', 'mnist:nope', '--out', out], /^tlcv pretrain: invalid data spec "mnist:nope": unknown mnist split "nope": expected train, test or all/);
  fails((out) => ['pretrain', '--data', 'pets:train', '--out', out], /^tlcv pretrain: unknown data kind "pets" in "pets:train": expected one of fashion-mnist, mnist, idx, folder, cifar10, cifar100/);
  fails((out) => ['pretrain', '--data', 'mnist:train@k=0', '--out', out], /^tlcv pretrain: invalid modifier in data spec "mnist:train@k=0": k=0: expected a positive integer/);
  fails((out) => ['pretrain', '--data', 'idx:only-one-file', '--out', out], /^tlcv pretrain: invalid data spec "idx:only-one-file": idx needs two paths/);
});

test('bad numbers: negative or zero epochs, lr 0 or below, batch size 0, text for a number', () => {
  fails((out) => ['pretrain', ...data, '--epochs', '-1', '--out', out], /^tlcv pretrain: --epochs: expected an integer >= 1, got "-1"$/);
  fails((out) => ['pretrain', ...data, '--epochs', '0', '--out', out], /^tlcv pretrain: --epochs: expected an integer >= 1, got "0"$/);
  fails((out) => ['pretrain', ...data, '--epochs', '2.5', '--out', out], /^tlcv pretrain: --epochs: expected an integer, got "2\.5"$/);
  fails((out) => ['pretrain', ...data, '--lr', '0', '--out', out], /^tlcv pretrain: --lr: expected a number > 0, got "0"$/);
  fails((out) => ['pretrain', ...data, '--lr=-0.1', '--out', out], /^tlcv pretrain: --lr: expected a number > 0, got "-0\.1"$/);
  fails((out) => ['pretrain', ...data, '--lr', 'fast', '--out', out], /^tlcv pretrain: --lr: expected a number, got "fast"$/);
  fails((out) => ['pretrain', ...data, '--batch-size', '0', '--out', out], /^tlcv pretrain: --batch-size: expected an integer >= 1, got "0"$/);
  fails((out) => ['transfer', '--model', 'seed-cnn', ...data, '--mode', 'fine-tune', '--unfreeze', 'some', '--out', out], /^tlcv transfer: --unfreeze: expected a non-negative integer or "all", got "some"$/);
  fails((out) => ['pretrain', ...data, '--optimizer', 'rmsprop', '--out', out], /^tlcv pretrain: --optimizer: expected one of sgd\|adam\|adamw, got "rmsprop"$/);
  fails((out) => ['pretrain', ...data, '--input-size', '4x4', '--out', out], /^tlcv pretrain: --input-size: expected at least 8x8 for seed-cnn, got "4x4"$/);
});

test('a batch larger than the training set with --drop-last, and a --val that leaves no images', () => {
  fails((out) => ['pretrain', ...data, '--batch-size', '64', '--drop-last', '--out', out], /^tlcv pretrain: --batch-size 64 is larger than the training set \(18 images\) and --drop-last would leave no batch$/);
  fails((out) => ['pretrain', '--data', 'mnist:train@classes=0+1,k=1', '--out', out], /^tlcv pretrain: --val 0\.1: holding out that fraction of 2 images \(per class\) leaves no validation images; use --val none/);
  fails((out) => ['pretrain', ...data, '--val', '1.5', '--out', out], /^tlcv pretrain: --val: expected a fraction in \(0, 1\), "none" or a data spec, got "1\.5"$/);
});

test('unknown flags, missing values and missing required flags', () => {
  fails((out) => ['pretrain', ...data, '--frobnicate', '--out', out], /^tlcv pretrain: unknown flag --frobnicate for `tlcv pretrain` \(see tlcv pretrain --help\)$/);
  fails((out) => ['pretrain', ...data, '--epochs', '--out', out], /^tlcv pretrain: --epochs: expected a value \(N\) but none was given$/);
  fails((out) => ['pretrain', '--out', out], /^tlcv pretrain: --data is required \(see tlcv pretrain --help\)$/);
  fails(() => ['pretrain', ...data], /^tlcv pretrain: --out is required/);
  fails((out) => ['transfer', ...data, '--out', out], /^tlcv transfer: --model is required/);
  fails(() => ['evaluate', '--data', 'mnist:test'], /^tlcv evaluate: --model is required/);
  fails(() => ['predict', '--model', root], /^tlcv predict: give one or more image files after the flags/);
  fails((out) => ['evaluate', '--model', out, '--data', 'mnist:test'], /^tlcv evaluate: --model .*out-\d+: no such model folder or weights file, and not a zoo model \(known: .*seed-cnn.*\)$/);
  fails(() => ['evaluate', '--model', root, '--data', 'mnist:test'], /^tlcv evaluate: .*tlcv-bad-flags-\w+ is not a tlcv model folder: config\.json is missing$/);
});

test('--help of every command exits 0 and shows its flags', () => {
  for (const cmd of ['pretrain', 'transfer', 'evaluate', 'predict', 'demo', 'models', 'datasets']) {
    const r = runCli([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`^tlcv ${cmd}`), cmd);
  }
  const bare = runCli([]);
  assert.equal(bare.code, 2, 'no command is a usage error');
  assert.match(bare.stdout, /Usage: tlcv <command>/);
});

test('--resume without a checkpoint, with a cut one, or with other flags: exit 2, the folder unchanged', () => {
  const fresh = join(root, 'no-checkpoint');
  fails(() => ['pretrain', ...data, '--resume', '--out', fresh], /^tlcv pretrain: --resume: no checkpoint at .*no-checkpoint\/checkpoint\.safetensors$/);
  const dir = join(root, 'resumable');
  const first = runCli(['pretrain', ...data, '--epochs', '1', '--threads', '1', '--quiet', '--keep-checkpoint', '--out', dir]);
  assert.equal(first.code, 0, first.stderr);
  const checkpoint = join(dir, 'checkpoint.safetensors');
  const check = (args: string[], message: RegExp): void => {
    const before = snapshot(dir);
    const r = runCli(['pretrain', ...data, '--epochs', '2', '--threads', '1', '--resume', ...args, '--out', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_LINE);
    assert.match(r.stderr, message);
    assertUnchanged(dir, before, 'a refused --resume');
  };
  check(['--optimizer', 'sgd'], /^tlcv pretrain: --resume: .*resumable\/checkpoint\.safetensors was written by a run with another model, data or optimizer \(resume with the same flags\): cannot load optimizer state into SGD: the state is from AdamW$/m);
  const bytes = readFileSync(checkpoint);
  writeFileSync(checkpoint, bytes.subarray(0, 1000));
  check([], /^tlcv pretrain: .*resumable\/checkpoint\.safetensors: safetensors header length \d+ runs past the end of the file \(1000 bytes\)$/m);
});
