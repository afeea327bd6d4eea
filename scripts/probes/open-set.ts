/**
 * Open-set benchmark (issue 23), run by hand (not a test):
 *   node dist/scripts/probes/open-set.js [--epochs N] [--known SPEC --unknown SPEC --arch NAME]...
 * Two scenarios by default: MNIST digits 0-4 against 5-9, and a fifth of Fashion-MNIST's first five kinds of
 * clothing against images of another kind altogether (MNIST digits). `--known folder:DIR:train
 * --unknown folder:OTHERS` adds a photo folder against images of other kinds (no photo folder
 * ships with tlcv, nor is one on the machine this was first run on): DIR:train is split 80/20 into
 * training and validation, and DIR:test holds the known test images.
 *
 * Each scenario trains a model on the known classes (80% of the training split; the other 20% is
 * the validation split the temperature and thresholds are chosen on, as `--unknown auto` does),
 * then scores known and unknown test images three ways: max softmax, the distance to the nearest
 * class mean (ncm: features centred on the training mean, unit length, against unit class means),
 * and the calibrated max softmax. For each: AUROC (known against unknown), and at the threshold
 * chosen on validation for a 5% false-rejection rate, the rate on known test images (the target)
 * and on unknown ones (the higher the better). The PyTorch peer (peers/open_set.py) computes the
 * same scores from the same logits and features with torch (temperature by L-BFGS, as Guo et
 * al.'s code does), and both columns are printed side by side.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forEachBatch, loadDataset, type Dataset } from '../../src/data/index.js';
import { forwardWithFeatures } from '../../src/execution/index.js';
import { auroc, calibrate, expectedCalibrationError, maxSoftmax, ncmDistanceScores, rejectionRate, rejectionThreshold, softmaxRows } from '../../src/metrics/index.js';
import type { ClassifierModel } from '../../src/models/index.js';
import { load } from '../../src/runs/index.js';
import { readPeerDir, writePeerInput } from '../../src/io/peer-files.js';
import { fromTypedArray, inferenceMode, tidy } from '../../src/tensor/index.js';
import { loaderFor, resolveTrainOptions } from '../../src/train/index.js';

const TARGET = 0.05;

interface Scenario {
  name: string;
  arch: string;
  /** Training images of the known classes. */
  train: string;
  /** Validation images of the known classes (the temperature and thresholds are chosen on them). */
  val: string;
  /** Test images of the known classes, and of other kinds. */
  knownTest: string;
  unknown: string;
}

const withMods = (spec: string, mods: string): string => (spec.includes('@') ? `${spec},${mods}` : `${spec}@${mods}`);
/** A known spec split 80/20 into training and validation, and its test split (":train" -> ":test"). */
const scenario = (name: string, arch: string, known: string, unknown: string): Scenario => ({
  name,
  arch,
  train: withMods(known, 'frac=0.8,seed=7'),
  val: withMods(known, 'frac=0.8,seed=7,rest'),
  knownTest: known.replace(':train', ':test'),
  unknown,
});

const { values: args } = parseArgs({ options: { epochs: { type: 'string', default: '4' }, known: { type: 'string', multiple: true }, unknown: { type: 'string', multiple: true }, arch: { type: 'string', multiple: true } } });
const epochs = Number(args.epochs);
const scenarios: Scenario[] = [
  scenario('digits 0-4 against 5-9', 'seed-cnn', 'mnist:train@classes=0-4', 'mnist:test@classes=5-9'),
  // 6,000 training images of five kinds of clothing; validation and known test are halves of their test split.
  {
    name: 'clothing (fashion-mnist 0-4) against digits',
    arch: 'seed-cnn',
    train: 'fashion-mnist:train@classes=0-4,k=1200,seed=7',
    val: 'fashion-mnist:test@classes=0-4,frac=0.5,seed=7',
    knownTest: 'fashion-mnist:test@classes=0-4,frac=0.5,seed=7,rest',
    unknown: 'mnist:test',
  },
  ...(args.known ?? []).map((known, i) => scenario(`${known} against ${args.unknown?.[i]}`, args.arch?.[i] ?? 'seed-cnn', known, args.unknown![i]!)),
];

/** Logits [N, C] and features [N, D] of a dataset in the model's eval forward. */
async function forward(model: ClassifierModel, ds: Dataset): Promise<{ logits: Float32Array; features: Float32Array; labels: Int32Array; dim: number }> {
  const loader = loaderFor(ds, model, resolveTrainOptions({}), { train: false, batchSize: 256 });
  const z: Float32Array[] = [];
  const f: Float32Array[] = [];
  const y: Int32Array[] = [];
  let dim = 0;
  model.eval();
  loader.setEpoch(0);
  await forEachBatch(loader, (b) => {
    inferenceMode(() =>
      tidy(() => {
        const out = forwardWithFeatures(model, b.x);
        dim = out.features.size(1);
        z.push(out.logits.float().toTypedArray() as Float32Array);
        f.push(out.features.float().toTypedArray() as Float32Array);
        y.push(Int32Array.from(b.y.toFlatArray()));
      }),
    );
    b.x.dispose();
    b.y.dispose();
  });
  const join = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
    return out;
  };
  return { logits: join(z, (n) => new Float32Array(n)), features: join(f, (n) => new Float32Array(n)), labels: join(y, (n) => new Int32Array(n)), dim };
}

function classMeans(features: Float32Array, labels: Int32Array, dim: number, k: number): { center: Float64Array; means: Float64Array } {
  const n = labels.length;
  const center = new Float64Array(dim);
  for (let i = 0; i < n; i += 1) for (let j = 0; j < dim; j += 1) center[j]! += features[i * dim + j]! / n;
  const means = new Float64Array(k * dim);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i += 1) {
    const c = labels[i]!;
    counts[c]! += 1;
    let s = 0;
    for (let j = 0; j < dim; j += 1) s += (features[i * dim + j]! - center[j]!) ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j += 1) means[c * dim + j]! += (features[i * dim + j]! - center[j]!) * inv;
  }
  for (let c = 0; c < k; c += 1) for (let j = 0; j < dim; j += 1) means[c * dim + j]! /= Math.max(counts[c]!, 1);
  return { center, means };
}

type Figures = Record<string, { auroc: number; knownRejected: number; unknownRejected: number }>;

async function run(s: Scenario): Promise<void> {
  const { train: trainSpec, val: valSpec } = s;
  const m = await load(s.arch, { pretrained: false });
  const t0 = performance.now();
  await m.fit(trainSpec, { val: valSpec, options: { epochs, seed: 0 }, quiet: true });
  const fitSeconds = (performance.now() - t0) / 1000;
  const how = { preprocess: m.preprocess! };
  const data = async (spec: string): Promise<Dataset> => loadDataset(spec, { stream: true, preprocess: how.preprocess, train: false, cacheImages: 'off' });
  const [train, val, knownTest, unknownTest] = await Promise.all([trainSpec, valSpec, s.knownTest, s.unknown].map(data));
  const [tr, va, kn, un] = [await forward(m.module, train!), await forward(m.module, val!), await forward(m.module, knownTest!), await forward(m.module, unknownTest!)];
  const k = m.module.numClasses;
  const cal = calibrate({ logits: va.logits, labels: va.labels, numClasses: k }, { targetRejection: TARGET });
  const { center, means } = classMeans(tr.features, tr.labels, tr.dim, k);
  const scores: Record<string, (d: typeof va) => Float64Array> = {
    'max softmax': (d) => maxSoftmax(d.logits, k, 1),
    'ncm distance': (d) => ncmDistanceScores(d.features, d.dim, center, means),
    'calibrated max softmax': (d) => maxSoftmax(d.logits, k, cal.temperature),
  };
  const ours: Figures = {};
  for (const [name, score] of Object.entries(scores)) {
    const threshold = rejectionThreshold(score(va), TARGET);
    ours[name] = { auroc: auroc(score(kn), score(un)), knownRejected: rejectionRate(score(kn), threshold), unknownRejected: rejectionRate(score(un), threshold) };
  }
  const heldEce = [expectedCalibrationError(softmaxRows(kn.logits, k, 1), kn.labels, k), expectedCalibrationError(softmaxRows(kn.logits, k, cal.temperature), kn.labels, k)];

  // The peer: the same logits and features, torch's arithmetic.
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-open-set-'));
  try {
    const t = (a: Float32Array | Int32Array | Float64Array, shape: number[]) => fromTypedArray(a, shape);
    const tensors = {
      trainFeatures: t(tr.features, [tr.labels.length, tr.dim]),
      trainLabels: t(tr.labels, [tr.labels.length]),
      valLogits: t(va.logits, [va.labels.length, k]),
      valFeatures: t(va.features, [va.labels.length, va.dim]),
      valLabels: t(va.labels, [va.labels.length]),
      knownLogits: t(kn.logits, [kn.labels.length, k]),
      knownFeatures: t(kn.features, [kn.labels.length, kn.dim]),
      knownLabels: t(kn.labels, [kn.labels.length]),
      unknownLogits: t(un.logits, [un.labels.length, k]),
      unknownFeatures: t(un.features, [un.labels.length, un.dim]),
    };
    writePeerInput(join(dir, 'in'), tensors, { target: TARGET });
    for (const x of Object.values(tensors)) x.dispose();
    const python = process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3';
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'peers', 'open_set.py');
    const r = spawnSync(python, [script, join(dir, 'in'), join(dir, 'out')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`peers/open_set.py failed: ${r.stderr}`);
    const peer = readPeerDir(join(dir, 'out'));
    for (const x of peer.tensors.values()) x.dispose();
    const theirs = peer.meta.figures as Figures;
    const pc = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(7);
    console.log(`\n${s.name}: ${s.arch} ${epochs} epochs (${fitSeconds.toFixed(0)}s), ${va.labels.length} validation, ${kn.labels.length} known and ${un.labels.length} unknown test images`);
    console.log(`  temperature ${cal.temperature.toFixed(3)} (peer ${(peer.meta.temperature as number).toFixed(3)}); ECE on validation ${pc(cal.eceBefore)} -> ${pc(cal.eceAfter)}, on known test ${pc(heldEce[0]!)} -> ${pc(heldEce[1]!)} (peer ${pc(peer.meta.eceBefore as number)} -> ${pc(peer.meta.eceAfter as number)})`);
    console.log(`  ${'score'.padEnd(24)} ${'AUROC'.padStart(7)} ${'peer'.padStart(7)}   known rejected (target ${pc(TARGET).trim()})  peer   unknown rejected  peer`);
    for (const name of Object.keys(scores)) {
      const a = ours[name]!;
      const b = theirs[name]!;
      console.log(`  ${name.padEnd(24)} ${a.auroc.toFixed(4).padStart(7)} ${b.auroc.toFixed(4).padStart(7)}   ${pc(a.knownRejected)}              ${pc(b.knownRejected)}  ${pc(a.unknownRejected)}        ${pc(b.unknownRejected)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    m.dispose();
  }
}

for (const s of scenarios) await run(s);
