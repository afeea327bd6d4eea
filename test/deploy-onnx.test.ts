// ONNX export checked by others than tlcv: onnxruntime-node runs every zoo model's exported file
// and must give `tlcv predict --json`'s probabilities within 1e-4, and the onnx package's checker
// (Debian's python3-onnx) must accept every file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_OPSET, type PredictionReport } from '../src/deploy/index.js';
import { preprocessImageFile, resolveDataConfig, serializePreprocess } from '../src/data/index.js';
import { modelPreprocess, readModelConfig } from '../src/runs/index.js';
import { CLASSES, writeModelFolder, writePhotos } from './helpers/deploy-fixture.js';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { PEER_PYTHON } from './helpers/peer.js';

interface Case {
  label: string;
  model: string;
  inChannels?: number;
  inputSize?: [number, number];
  /** Record a photo model's preprocessing (aspect kept, timm's crop_pct 0.875, bicubic) instead of the whole-image resize. */
  photoCrop?: boolean;
}

// Every zoo model at its configured (default) size, and the shapes the zoo also allows.
const CASES: Case[] = [
  { label: 'seed-cnn 1x28x28', model: 'seed-cnn' },
  { label: 'resnet18 3x224x224', model: 'resnet18' },
  { label: 'resnet34 3x224x224', model: 'resnet34' },
  { label: 'resnet50 3x224x224', model: 'resnet50' },
  { label: 'mobilenet_v2 3x224x224', model: 'mobilenet_v2' },
  { label: 'mobilenet_v2_035 3x224x224', model: 'mobilenet_v2_035' },
  { label: 'seed-cnn 3x40x32', model: 'seed-cnn', inChannels: 3, inputSize: [40, 32] },
  { label: 'resnet18 1x64x48', model: 'resnet18', inChannels: 1, inputSize: [64, 48] },
  { label: 'resnet18 3x224x224 crop_pct 0.875', model: 'resnet18', photoCrop: true },
];

let root: string;
let photos: string[];
const exported = new Map<string, { folder: string; onnx: string }>();

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-onnx-'));
  photos = await writePhotos(join(root, 'photos'), 3);
});

after(() => rmSync(root, { recursive: true, force: true }));

function predictJson(folder: string): PredictionReport {
  const r = runCli(['predict', '--model', folder, ...photos, '--json', '--top-k', '2']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PredictionReport;
}

for (const c of CASES) {
  test(`${c.label}: onnxruntime gives tlcv predict's probabilities within 1e-4`, async () => {
    const folder = join(root, c.label.replace(/ /g, '-'));
    const photoCrop = { preprocess: (m: Parameters<typeof resolveDataConfig>[0]['model']) => resolveDataConfig({ model: m, interpolation: 'bicubic' }) };
    await writeModelFolder(folder, c.model, photos, { ...(c.inChannels ? { inChannels: c.inChannels } : {}), ...(c.inputSize ? { inputSize: c.inputSize } : {}), ...(c.photoCrop ? photoCrop : {}) });
    const onnxFile = `${folder}.onnx`;
    const ex = runCli(['export', '--model', folder, '--format', 'onnx', '--out', onnxFile]);
    assert.equal(ex.code, 0, ex.stderr);
    exported.set(c.label, { folder, onnx: onnxFile });

    const report = predictJson(folder);
    assert.deepEqual(report.classes, CLASSES);
    assert.deepEqual(report.predictions.map((p) => p.file), photos);

    const config = readModelConfig(folder);
    const prep = modelPreprocess(config);
    assert.equal(prep.cropPct, c.photoCrop ? 0.875 : 1);
    const [ch, h, w] = config.inputSize;
    // All photos in one batch: the batch dimension is dynamic.
    const input = new Float32Array(photos.length * ch * h * w);
    for (const [i, f] of photos.entries()) input.set(await preprocessImageFile(f, prep), i * ch * h * w);
    const session = await ort.InferenceSession.create(onnxFile);
    const out = await session.run({ image: new ort.Tensor('float32', input, [photos.length, ch, h, w]) });
    assert.deepEqual(out.probabilities!.dims, [photos.length, CLASSES.length]);
    assert.deepEqual(out.logits!.dims, [photos.length, CLASSES.length]);
    const probs = out.probabilities!.data as Float32Array;
    let worst = 0;
    for (const [i, p] of report.predictions.entries()) {
      assert.equal(p.probabilities.length, CLASSES.length);
      assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities sum to 1');
      assert.deepEqual(p.top.map((t) => t.index), [...p.probabilities.keys()].sort((a, b) => p.probabilities[b]! - p.probabilities[a]!).slice(0, 2), 'top: the two most likely, in order');
      for (let k = 0; k < CLASSES.length; k += 1) worst = Math.max(worst, Math.abs(probs[i * CLASSES.length + k]! - p.probabilities[k]!));
    }
    assert.ok(worst <= 1e-4, `largest probability difference ${worst}`);
    // The comparison has teeth: the fixture's logits spread, so probabilities are far from uniform.
    const confident = Math.max(...report.predictions.map((p) => p.top[0]!.probability));
    assert.ok(confident > 0.5, `the most confident prediction is ${confident}`);
  });
}

test("onnx.checker accepts every exported file; inputs, outputs, opset and metadata are as documented", (t) => {
  if (exported.size !== CASES.length) return t.skip('an export above failed');
  const files = [...exported.values()].map((e) => e.onnx);
  const r = spawnSync(PEER_PYTHON, [resolve('test', 'peer', 'onnx_check.py'), ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `onnx.checker (python3-onnx, ${PEER_PYTHON}) refused a file:\n${r.stderr}`);
  const report = JSON.parse(r.stdout) as Record<string, { ir_version: number; opset: [string, number][]; inputs: [string, (string | number)[]][]; outputs: [string, (string | number)[]][]; metadata: Record<string, string>; ops: string[] }>;
  for (const { folder, onnx } of exported.values()) {
    const f = report[onnx]!;
    const config = readModelConfig(folder);
    assert.deepEqual(f.opset, [['', ONNX_OPSET]]);
    assert.deepEqual(f.inputs, [['image', ['N', ...config.inputSize]]]);
    assert.deepEqual(f.outputs, [['logits', ['N', CLASSES.length]], ['probabilities', ['N', CLASSES.length]]]);
    assert.deepEqual(JSON.parse(f.metadata.classes!), CLASSES);
    assert.deepEqual(JSON.parse(f.metadata.input_size!), config.inputSize);
    assert.deepEqual(JSON.parse(f.metadata.mean!), config.mean);
    assert.deepEqual(JSON.parse(f.metadata.std!), config.std);
    // The model folder's record, with timm's key names; training's random crops are not for inference.
    const recorded = serializePreprocess(modelPreprocess(config));
    assert.equal(f.metadata.interpolation, recorded.interpolation);
    assert.equal(f.metadata.resize, recorded.resize);
    assert.equal(f.metadata.crop_mode, 'center');
    assert.equal(f.metadata.background, recorded.background);
    assert.equal(JSON.parse(f.metadata.crop_pct!), recorded.crop_pct);
    assert.equal(f.metadata.train, undefined);
    assert.equal(f.metadata.tlcv_version, (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
    // BatchNorm is folded into the convs, Dropout dropped.
    assert.ok(!f.ops.includes('BatchNormalization') && !f.ops.includes('Dropout'), f.ops.join(', '));
  }
  const mobilenet = report[exported.get('mobilenet_v2 3x224x224')!.onnx]!;
  assert.deepEqual(mobilenet.ops, ['Add', 'Clip', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Mul', 'Softmax']);
});

test('tlcv export: bad flags and folders are one-line user errors', () => {
  const folder = exported.get('seed-cnn 1x28x28')?.folder ?? join(root, 'missing');
  const cases: [string[], RegExp][] = [
    [['export', '--model', folder, '--format', 'tflite', '--out', join(root, 'x')], /^tlcv export: --format: expected one of onnx\|web, got "tflite"$/m],
    [['export', '--model', folder], /^tlcv export: --out is required/m],
    [['export', '--model', join(root, 'nope'), '--out', join(root, 'x.onnx')], /^tlcv export: --model .*nope: no such model folder or weights file, and not a zoo model \(known: .*\)$/m],
    [['export', '--model', root, '--out', join(root, 'x.onnx')], /^tlcv export: .*tlcv-onnx-\w+ is not a tlcv model folder: config\.json is missing$/m],
  ];
  const busy = join(root, 'busy');
  mkdirSync(busy, { recursive: true });
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  cases.push([['export', '--model', folder, '--format', 'web', '--out', busy], /^tlcv export: --out .*busy already holds other files \(notes\.txt\)/m]);
  cases.push([['export', '--model', folder, '--format', 'onnx', '--out', busy], /^tlcv export: --out .*busy is a folder: give the \.onnx file's name, e\.g\. .*busy\/model\.onnx$/m]);
  cases.push([['export', '--model', folder, '--format', 'web', '--out', join(busy, 'notes.txt')], /^tlcv export: --out .*notes\.txt is a file: the web page needs a folder$/m]);
  // An --out that holds an earlier export is replaced only with --overwrite, as training's --out is.
  const again = join(root, 'again.onnx');
  assert.equal(runCli(['export', '--model', folder, '--out', again]).code, 0);
  cases.push([['export', '--model', folder, '--out', again], /^tlcv export: --out .*again\.onnx already exists: pass --overwrite to replace it, or choose another file$/m]);
  const page = join(root, 'again-web');
  assert.equal(runCli(['export', '--model', folder, '--format', 'web', '--out', page]).code, 0);
  cases.push([['export', '--model', folder, '--format', 'web', '--out', page], /^tlcv export: --out .*again-web already holds an exported page: pass --overwrite to replace it, or choose another folder$/m]);
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
  assert.equal(runCli(['export', '--model', folder, '--out', again, '--overwrite']).code, 0);
  assert.equal(runCli(['export', '--model', folder, '--format', 'web', '--out', page, '--overwrite']).code, 0);
});
