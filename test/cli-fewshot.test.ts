// `tlcv transfer --mode ncm|knn|probe` through the real binary: a knn folder round trip (the
// config's head record; the reloaded head is the one fitted in-process on the same features;
// evaluate and predict read it; export refuses it with one clear line), ncm and probe folders
// that export, and bad flags (exit 2, one line naming the flag, nothing written).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed } from '../src/tensor/index.js';
import { createModel } from '../src/models/index.js';
import { DataLoader, loadDataset, legacyPreprocess } from '../src/data/index.js';
import { planExecution, predictImages } from '../src/execution/index.js';
import { encodePng } from '../src/report/index.js';
import { loadModelFolder, saveModelFolder } from '../src/runs/index.js';
import { KnnHead, extractFeatures } from '../src/transfer/heads/index.js';
import { evaluateModel } from '../src/train/index.js';
import { assertClose } from './helpers/assert-close.js';
import { assertUserError, runCli, STACK_LINE } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-fewshot-'));
after(() => rmSync(root, { recursive: true, force: true }));
const source = join(root, 'source');
const support = 'mnist:all@k=3,seed=1';
const query = 'mnist:test@k=4,seed=2';
const fp32 = ['--precision', 'fp32', '--channels-last', 'off'];
const plan = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

before(() => {
  // A seeded seed-cnn stands in for a trained source: the heads work on any features.
  manualSeed(5);
  const model = createModel('seed-cnn', { numClasses: 10 });
  saveModelFolder(source, model, { classes: Array.from({ length: 10 }, (_, i) => `c${i}`), preprocess: legacyPreprocess(model.config) });
  model.dispose();
});

function ok(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('knn: the folder keeps its support set and k, and evaluate, predict and export treat it so', async () => {
  const out = join(root, 'knn');
  assert.match(ok(['transfer', '--model', source, '--data', support, '--val', 'none', '--mode', 'knn', '--k', '3', ...fp32, '--out', out]), /^wrote .*knn \(\d+\.\ds, fit \d+\.\ds\); support-set accuracy \d+\.\d\d%\n$/);
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'model.safetensors', 'report.html']);
  assert.deepEqual((JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { head: unknown }).head, { kind: 'knn', k: 3 });

  // The reloaded head is the one a library user fits on the same features.
  const { model, config } = loadModelFolder(out);
  const head = model.getSubmodule(model.config.classifier);
  assert.ok(head instanceof KnnHead && head.k === 3 && head.numClasses === 10);
  const sourceModel = loadModelFolder(source).model;
  // The heads stand on the features feature extraction trains on: seed-cnn's flattened conv output.
  sourceModel.resetFeatureExtractionHead(10);
  const data = await loadDataset(support);
  const loader = (ds: typeof data): DataLoader => new DataLoader(ds, { batchSize: 64, mean: config.mean, std: config.std });
  const feats = await extractFeatures(sourceModel, loader(data), plan);
  const mine = KnnHead.fit(feats.features, feats.labels, 10, { k: 3 });
  assertClose(head.namedBuffers().get('support')!, mine.namedBuffers().get('support')!, { atol: 1e-6, what: 'support features' });
  assert.deepEqual(head.namedBuffers().get('support_labels')!.toFlatArray(), mine.namedBuffers().get('support_labels')!.toFlatArray());

  // evaluate reads the folder as a knn model: its figures are the in-process head's.
  const test = await loadDataset(query);
  const r = JSON.parse(ok(['evaluate', '--model', out, '--data', query, '--json', '--precision', 'fp32'])) as { accuracy: number; confusion: number[][]; n: number };
  const expected = await evaluateModel(model, loader(test), { plan, classNames: config.classes });
  assert.equal(r.n, 40);
  assert.equal(r.accuracy, expected.accuracy);
  assert.deepEqual(r.confusion, expected.confusion);

  // predict: the same probabilities as the in-process model for image files.
  const files: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const path = join(root, `digit-${i}.png`);
    writeFileSync(path, await encodePng(test.images.subarray(i * 784, (i + 1) * 784), 1, 28, 28));
    files.push(path);
  }
  const p = JSON.parse(ok(['predict', '--model', out, '--json', ...files])) as { predictions: { probabilities: number[] }[] };
  p.predictions.forEach((pred, i) => {
    const want = predictImages(model, [test.images.subarray(i * 784, (i + 1) * 784)], { input: config })[0]!;
    pred.probabilities.forEach((v, c) => assert.ok(Math.abs(v - want[c]!) < 1e-5, `file ${i} class ${c}: ${v} vs ${want[c]}`));
  });

  const e = runCli(['export', '--model', out, '--format', 'onnx', '--out', join(root, 'knn.onnx')]);
  assert.equal(e.code, 2);
  assert.doesNotMatch(e.stderr, STACK_LINE);
  assert.match(e.stderr, /^tlcv export: cannot export .*knn: its knn head has no ONNX form in tlcv; serve it with `tlcv serve`, or fit an exportable head with `tlcv transfer --mode ncm` or `--mode probe`\n$/);
  assert.equal(existsSync(join(root, 'knn.onnx')), false);
  for (const m of [model, sourceModel, mine]) m.dispose();
  feats.features.dispose();
});

test('ncm (centred on source data) and probe: float32 Linear heads that reload as such and export', () => {
  for (const mode of ['ncm', 'probe'] as const) {
    const out = join(root, mode);
    const center = mode === 'ncm' ? ['--center', 'mnist:train@k=2,seed=9'] : [];
    assert.match(ok(['transfer', '--model', source, '--data', support, '--val', 'none', '--mode', mode, ...center, ...fp32, '--out', out]), /support-set accuracy/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { head: unknown; provenance: Record<string, unknown>; options: Record<string, unknown> };
    assert.deepEqual(config.head, { kind: 'float32-linear' });
    assert.equal(config.options.hidden, 0, 'the head took the place of the hidden layer, and the folder says so');
    if (mode === 'ncm') assert.equal(config.provenance.center, 'mnist:train@k=2,seed=9');
    else assert.equal(typeof config.provenance.lambda, 'number');
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), new RegExp(`${mode} on 30 support images, 2304 features`));
    ok(['export', '--model', out, '--format', 'onnx', '--out', join(root, `${mode}.onnx`)]);
    assert.ok(existsSync(join(root, `${mode}.onnx`)));
  }
});

let n = 0;
function fails(args: (out: string) => string[], line: RegExp): void {
  const out = join(root, `bad-${(n += 1)}`);
  assertUserError(args(out), line, { out, ignore: /^source:/ });
}

test('bad flags for the head modes: exit 2, one line naming the flag, nothing written', () => {
  const t = (out: string, ...rest: string[]): string[] => ['transfer', '--model', source, '--data', support, '--val', 'none', ...rest, '--out', out];
  fails((o) => t(o, '--mode', 'ncm', '--epochs', '3', '--lr', '0.1'), /^tlcv transfer: --epochs, --lr: ncm fits its head without training; these flags apply to --mode feature-extraction and fine-tune$/);
  fails((o) => t(o, '--mode', 'ncm', '--k', '3'), /^tlcv transfer: --k: the number of neighbours applies to --mode knn, not ncm$/);
  fails((o) => t(o, '--mode', 'probe', '--center', 'mnist:train@k=1'), /^tlcv transfer: --center: probe standardises the support features itself; centring applies to --mode ncm and knn$/);
  fails((o) => t(o, '--mode', 'fine-tune', '--k', '3'), /^tlcv transfer: --k applies to the training-free head modes \(ncm, knn, probe\), not --mode fine-tune$/);
  fails((o) => t(o, '--mode', 'knn', '--k', '31'), /^tlcv transfer: --k: expected at most 30 \(the support images in --data\), got 31$/);
  fails((o) => t(o, '--mode', 'knn', '--k', '0'), /^tlcv transfer: --k: expected an integer >= 1, got "0"$/);
  fails((o) => t(o, '--mode', 'svm'), /^tlcv transfer: --mode: expected one of feature-extraction\|fine-tune\|ncm\|knn\|probe, got "svm"$/);
  fails((o) => t(o, '--mode', 'ncm', '--center', 'mnist:nope'), /^tlcv transfer: invalid data spec "mnist:nope": unknown mnist split "nope"/);
});
