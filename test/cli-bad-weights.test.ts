// Bad weights and model folders through the real `tlcv` binary: safetensors headers that are
// malformed, oversized or whose offsets run past the data; weights whose names or shapes do
// not fit the model (listed); a .pth whose pickle would run os.system (refused, and the payload
// never runs); config.json files whose weights path leaves the model folder. Each is exit 2
// naming the file, with no stack trace, and nothing is written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createModel } from '../src/models/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { legacyPreprocess } from '../src/data/index.js';
import { saveModelFolder } from '../src/runs/index.js';
import { manualSeed, zeros } from '../src/tensor/index.js';
import { runCli, STACK_LINE, type CliResult } from './helpers/cli.js';
import { assertUnchanged, snapshot } from './helpers/fs-snapshot.js';
import { PEER_PYTHON } from './helpers/peer.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-bad-weights-'));
const folder = join(root, 'model');
let image = '';
after(() => rmSync(root, { recursive: true, force: true }));

before(async () => {
  manualSeed(0);
  const model = createModel('seed-cnn', { numClasses: 2 });
  saveModelFolder(folder, model, { classes: ['a', 'b'], preprocess: legacyPreprocess(model.config) });
  model.dispose();
  image = join(root, 'digit.png');
  writeFileSync(image, await sharp(Buffer.alloc(28 * 28, 200), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer());
});

function assertUserError(r: CliResult, command: string, message: RegExp | string): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  assert.ok(r.stderr.startsWith(`tlcv ${command}: `), r.stderr);
  if (typeof message === 'string') assert.ok(r.stderr.includes(message), `${JSON.stringify(message)} in ${r.stderr}`);
  else assert.match(r.stderr, message);
}

let n = 0;
/** `tlcv transfer --model FILE --arch seed-cnn` fails, and creates neither a new --out nor changes an existing one. */
function transferFails(from: string, message: RegExp): CliResult {
  const out = join(root, `out-${(n += 1)}`);
  const r = runCli(['transfer', '--model', from, '--arch', 'seed-cnn', '--data', 'mnist:train@k=2', '--epochs', '1', '--threads', '1', '--out', out]);
  assertUserError(r, 'transfer', message);
  assert.equal(existsSync(out), false, 'nothing written');
  return r;
}

function safetensorsBytes(header: string, data = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(header, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

test('safetensors: a malformed, an oversized and an out-of-range header each name the file and the problem', () => {
  const malformed = join(root, 'malformed.safetensors');
  writeFileSync(malformed, safetensorsBytes('{"features.0.weight": {"dtype": "F32", '));
  transferFails(malformed, /^tlcv transfer: .*malformed\.safetensors: safetensors header is not valid JSON/);

  const oversized = join(root, 'oversized.safetensors');
  const len = Buffer.alloc(16);
  len.writeBigUInt64LE(2n ** 40n);
  writeFileSync(oversized, len);
  transferFails(oversized, /^tlcv transfer: .*oversized\.safetensors: safetensors header length 1099511627776 exceeds the 100000000-byte limit/);

  const offsets = join(root, 'offsets.safetensors');
  writeFileSync(offsets, safetensorsBytes('{"features.0.weight":{"dtype":"F32","shape":[64,1,3,3],"data_offsets":[0,2304]}}', Buffer.alloc(100)));
  transferFails(offsets, /^tlcv transfer: .*offsets\.safetensors: tensor "features\.0\.weight": data_offsets \[0, 2304\] run past the end of the data \(100 bytes\)/);
});

test('weights whose names or shapes do not fit the model are listed, each with both shapes', () => {
  manualSeed(0);
  const model = createModel('seed-cnn');
  const sd = model.stateDict();
  sd.set('features.0.kernel', sd.get('features.0.weight')!);
  sd.delete('features.0.weight');
  const wrong = zeros([512, 100]);
  sd.set('classifier.fc1.weight', wrong);
  const path = join(root, 'mismatch.safetensors');
  writeSafetensors(path, sd);
  wrong.dispose();
  model.dispose();
  const r = transferFails(path, /^tlcv transfer: .*mismatch\.safetensors: weights do not fit seed-cnn:$/m);
  assert.match(r.stderr, /^ {2}missing keys: features\.0\.weight$/m);
  assert.match(r.stderr, /^ {2}unexpected keys: features\.0\.kernel$/m);
  assert.match(r.stderr, /^ {2}shape mismatches: classifier\.fc1\.weight \(model \[512, 2304\], file \[512, 100\]\)$/m);
});

test('a model folder whose weights do not fit its config fails to load, naming the folder', () => {
  const dir = join(root, 'wrong-weights');
  manualSeed(0);
  const model = createModel('seed-cnn', { numClasses: 3 });
  saveModelFolder(dir, model, { classes: ['a', 'b', 'c'], preprocess: legacyPreprocess(model.config) });
  model.dispose();
  // The config now says 2 classes, the weights hold 3.
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, numClasses: 2, classes: ['a', 'b'] }));
  const r = runCli(['predict', '--model', dir, image]);
  assertUserError(r, 'predict', /classifier\.fc2\.weight \(model \[2, 512\], file \[3, 512\]\)/);
});

test('a .pth whose pickle would run os.system is refused and the payload never runs', () => {
  const evil = join(root, 'evil.pth');
  const marker = join(root, 'PWNED');
  const made = spawnSync(PEER_PYTHON, [join('test', 'peer', 'evil_pth.py'), evil, marker], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  assert.equal(existsSync(marker), false);
  transferFails(evil, /^tlcv transfer: .*evil\.pth: refusing to load: pickle uses GLOBAL posix\.system which could execute code$/m);
  assert.equal(existsSync(marker), false, 'the payload did not run');
});

test('config.json cannot point outside its model folder: ../, absolute paths and subfolders are refused', () => {
  // A loadable weights file sits outside, so only the path rule can refuse it.
  const outside = join(root, 'outside.safetensors');
  writeFileSync(outside, readFileSync(join(folder, 'model.safetensors')));
  mkdirSync(join(folder, 'sub'), { recursive: true });
  writeFileSync(join(folder, 'sub', 'model.safetensors'), readFileSync(join(folder, 'model.safetensors')));
  const original = readFileSync(join(folder, 'config.json'), 'utf8');
  try {
    for (const weights of ['../outside.safetensors', outside, 'sub/model.safetensors', '..', '']) {
      writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...(JSON.parse(original) as object), weights }));
      const message = `config.json: field "weights" must be a file name inside the model folder, found ${JSON.stringify(weights)}`;
      const before = snapshot(folder);
      assertUserError(runCli(['predict', '--model', folder, image]), 'predict', message);
      if (weights === outside) {
        // The other two commands that load model folders go through the same check.
        assertUserError(runCli(['evaluate', '--model', folder, '--data', 'mnist:test@k=1']), 'evaluate', message);
        const out = join(root, `escape-${(n += 1)}`);
        assertUserError(runCli(['transfer', '--model', folder, '--data', 'mnist:train@k=2', '--out', out]), 'transfer', message);
        assert.equal(existsSync(out), false);
      }
      assertUnchanged(folder, before, 'a refused model folder');
    }
  } finally {
    writeFileSync(join(folder, 'config.json'), original);
  }
  const ok = runCli(['predict', '--model', folder, image, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a config.json that is not JSON, or names an unknown architecture, is refused naming the file', () => {
  const dir = join(root, 'bad-config');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(folder, 'model.safetensors')));
  writeFileSync(join(dir, 'config.json'), '{"model": "seed-cnn",');
  assertUserError(runCli(['predict', '--model', dir, image]), 'predict', /bad-config\/config\.json: not valid JSON/);
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model: 'evil-net' }));
  assertUserError(runCli(['predict', '--model', dir, image]), 'predict', /unknown model "evil-net"/);
});

test('predict: a missing file and a file that is not an image are named', () => {
  assertUserError(runCli(['predict', '--model', folder, join(root, 'nope.png')]), 'predict', /image file .*nope\.png does not exist or is not a file/);
  const text = join(root, 'notes.png');
  writeFileSync(text, 'not an image');
  assertUserError(runCli(['predict', '--model', folder, image, text]), 'predict', /image file .*notes\.png: not an image \(unsupported or unknown format\)/);
});
