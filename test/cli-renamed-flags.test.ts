// One meaning per flag name (issue 19): --model is the model a command works on in every
// command, --arch an architecture. The old spellings (pretrain --model NAME, transfer and adapt
// --from, and --model naming a weights file's architecture beside --from) keep working for one
// release, each with one line saying the new spelling.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { assertUserError, runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-renamed-'));
after(() => rmSync(root, { recursive: true, force: true }));
const data = ['--data', 'mnist:train@k=3,classes=0+1+2', '--val', 'none'];
const quick = ['--epochs', '1', '--batch-size', '3', '--precision', 'fp32', '--channels-last', 'off'];
const weights = join(root, 'seed.safetensors');

before(() => {
  manualSeed(1);
  const m = createModel('seed-cnn', { numClasses: 10 });
  writeSafetensors(weights, m.stateDict());
  m.dispose();
});

const notices = (stderr: string): string[] => stderr.split('\n').filter((l) => / note: .* is now /.test(l));

test('pretrain --arch; the old --model NAME still works, with one line naming --arch', () => {
  const now = runCli(['pretrain', '--arch', 'seed-cnn', ...data, ...quick, '--quiet', '--out', join(root, 'a')]);
  assert.equal(now.code, 0, now.stderr);
  assert.deepEqual(notices(now.stderr), []);
  const old = runCli(['pretrain', '--model', 'seed-cnn', ...data, ...quick, '--quiet', '--out', join(root, 'b')]);
  assert.equal(old.code, 0, old.stderr);
  assert.deepEqual(notices(old.stderr), ['tlcv pretrain: note: --model NAME is now --arch NAME (the old spelling works until the next release)']);
  assert.equal(JSON.parse(readFileSync(join(root, 'b', 'config.json'), 'utf8')).model, 'seed-cnn');
  assertUserError(['pretrain', '--model', 'seed-cnn', '--arch', 'resnet18', ...data, '--out', join(root, 'c')], /--model seed-cnn --arch resnet18: give the architecture once, with --arch/, { out: join(root, 'c'), ignore: / note: / });
});

test('transfer --model DIR and --model FILE --arch NAME; --from and --from FILE --model NAME still work', () => {
  const source = join(root, 'a');
  const ncm = (args: string[], out: string): string[] => {
    const r = runCli(['transfer', ...args, ...data, '--mode', 'ncm', '--precision', 'fp32', '--channels-last', 'off', '--out', join(root, out)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(root, out, 'model.safetensors')));
    return notices(r.stderr);
  };
  assert.deepEqual(ncm(['--model', source], 't1'), []);
  assert.deepEqual(ncm(['--from', source], 't2'), ['tlcv transfer: note: --from is now --model (the old spelling works until the next release)']);
  assert.deepEqual(ncm(['--model', weights, '--arch', 'seed-cnn'], 't3'), []);
  assert.equal(ncm(['--from', weights, '--model', 'seed-cnn'], 't4').length, 2);
  assertUserError(['transfer', ...data, '--mode', 'ncm', '--out', join(root, 't5')], /^tlcv transfer: --model is required/, { out: join(root, 't5') });
  assertUserError(['transfer', '--model', weights, ...data, '--mode', 'ncm', '--out', join(root, 't6')], /--model .*seed\.safetensors is a weights file: say which architecture it is with --arch NAME/, { out: join(root, 't6') });
});
