// Issue 19's bug, end to end through the real binary: every command that writes a model folder
// records the preprocessing it trained and evaluated with. pretrain records its own choices;
// transfer in every mode and adapt with every method carry the source folder's record forward
// (or, from a weights file, the record the flags ask for, the same in every mode); and
// `tlcv evaluate` of the written folder, which applies only the record, reproduces the accuracy
// the command itself reported.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { runCli } from './helpers/cli.js';
import { writePhoto } from './helpers/photos.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-record-'));
after(() => rmSync(root, { recursive: true, force: true }));

const photos = join(root, 'photos');
const train = `folder:${photos}:train`;
const test_ = `folder:${photos}:test`;
const FP32 = ['--precision', 'fp32', '--channels-last', 'off'];
const CLASSES = ['disc', 'gradient', 'square'];
const source = join(root, 'source');
const weights = join(root, 'mobilenet.safetensors');

before(async () => {
  // Non-square photos larger than digits: they stream, and aspect against fill matters.
  for (const [split, count] of [['train', 5], ['test', 3]] as const) {
    for (const [c, cls] of CLASSES.entries()) {
      for (let i = 0; i < count; i += 1) await writePhoto(join(photos, split, cls, `${i}.jpg`), { width: 120 + 10 * c, height: 90, seed: 100 * c + i + (split === 'test' ? 50 : 0), marker: c === 2 ? 30 : 0 });
    }
  }
  manualSeed(3);
  const m = createModel('mobilenet_v2_035', { numClasses: 3, inputSize: [48, 48] });
  writeSafetensors(weights, m.stateDict());
  m.dispose();
});

type Record_ = { input_size: number[]; resize: string; crop_pct: number; interpolation: string; train: { random_resized_crop: unknown; hflip: boolean } };
const record = (dir: string): Record_ => (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { preprocess: Record_ }).preprocess;

function ok(args: string[], plan = FP32): string {
  const r = runCli([...args, ...plan]);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The accuracy (a fraction) in a command's "... accuracy 66.67%" line. */
function reported(stdout: string, what: RegExp): number {
  const m = new RegExp(`${what.source} (\\d+\\.\\d\\d)%`).exec(stdout);
  assert.ok(m, `no accuracy matching ${what} in ${stdout}`);
  return Number(m[1]) / 100;
}

/**
 * What `tlcv evaluate` finds with the folder's record alone, on libtorch as the command measured
 * it: a backbone trained one epoch on 15 images gives nearly equal features, so the ncm and probe
 * heads fitted on them have weights near 1e6 whose float32 logits cancel to a few bits, and
 * another engine's summation order (onnxruntime's) flips some argmaxes. Engine agreement is
 * tested on well-conditioned models (test/engine-parity.test.ts).
 */
function evaluated(dir: string, data: string): number {
  return (JSON.parse(ok(['evaluate', '--model', dir, '--data', data, '--json', '--engine', 'libtorch'])) as { accuracy: number }).accuracy;
}

const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 5e-5, `${what}: reported ${a}, evaluate finds ${b}`);

let sourceRecord: Record_;

test('pretrain records the choices it trained with', () => {
  ok(['pretrain', '--arch', 'mobilenet_v2_035', '--data', train, '--val', test_, '--input-size', '48x48', '--crop-pct', '0.8', '--interpolation', 'bicubic', '--epochs', '1', '--batch-size', '5', '--out', source]);
  sourceRecord = record(source);
  assert.deepEqual(sourceRecord.input_size, [3, 48, 48]);
  assert.equal(sourceRecord.resize, 'aspect');
  assert.equal(sourceRecord.crop_pct, 0.8);
  assert.equal(sourceRecord.interpolation, 'bicubic');
  assert.equal(sourceRecord.train.hflip, true);
});

for (const mode of ['feature-extraction', 'fine-tune', 'ncm', 'knn', 'probe']) {
  test(`transfer --mode ${mode} from a model folder keeps its record, and evaluate reproduces the accuracy it reported`, () => {
    const out = join(root, `t-${mode}`);
    const training = mode === 'feature-extraction' || mode === 'fine-tune' ? ['--epochs', '1', '--batch-size', '5'] : [];
    const r = runCli(['transfer', '--model', source, '--data', train, '--val', test_, '--mode', mode, ...training, '--out', out, ...FP32]);
    assert.equal(r.code, 0, r.stderr);
    const stdout = r.stdout;
    assert.deepEqual(record(out), sourceRecord);
    // Info lines reach the terminal once (they once came both through Progress and through log).
    if (mode === 'feature-extraction') assert.equal(r.stderr.split('frozen layers\' outputs are not cached').length - 1, 1, r.stderr);
    near(reported(stdout, /validation accuracy/), evaluated(out, test_), mode);
  });
}

test('transfer from a weights file: --input-size and --crop-pct give every mode the same record', () => {
  const records = ['feature-extraction', 'ncm', 'probe'].map((mode) => {
    const out = join(root, `w-${mode}`);
    const training = mode === 'feature-extraction' ? ['--epochs', '1', '--batch-size', '5'] : [];
    ok(['transfer', '--model', weights, '--arch', 'mobilenet_v2_035', '--data', train, '--val', 'none', '--mode', mode, '--input-size', '40x40', '--crop-pct', '1', ...training, '--out', out]);
    return record(out);
  });
  assert.deepEqual(records[0]!.input_size, [3, 40, 40]);
  assert.equal(records[0]!.crop_pct, 1);
  assert.equal(records[0]!.resize, 'aspect');
  assert.deepEqual(records[1], records[0]);
  assert.deepEqual(records[2], records[0]);
});

for (const method of ['adabn', 'dann', 'pseudo-label']) {
  test(`adapt --method ${method} keeps the source's record, and evaluate reproduces its target accuracy`, () => {
    const out = join(root, `a-${method}`);
    const training = method === 'adabn' ? [] : ['--source', train, '--val', 'none', '--epochs', '1', '--batch-size', '5', ...(method === 'pseudo-label' ? ['--rounds', '1'] : [])];
    const stdout = ok(['adapt', '--model', source, '--target', train, '--target-test', test_, '--method', method, ...training, '--out', out]);
    assert.deepEqual(record(out), sourceRecord);
    near(reported(stdout, /->/), evaluated(out, test_), method);
  });
}
