/**
 * By-hand benchmark of the training-free heads: from a source model folder, k labels per class
 * of a target domain (the rest is the test set), each head's accuracy and wall time (feature
 * extraction included), and NCM against the PyTorch peer (peers/ncm.py) on the same features:
 * their agreement, accuracy and fit-and-predict time.
 *
 *   npx tsc -p tsconfig.json && OMP_WAIT_POLICY=PASSIVE node dist/bench/fewshot-heads.js \
 *     --from runs/demo/source --target mnist:all [--source fashion-mnist:train@k=1000,seed=1] [--k 10] [--seed 1]
 *
 * The feature-extraction baseline the issue compares with is `tlcv demo`'s (same splits at the
 * same seed), or `tlcv transfer --mode feature-extraction` on `--data TARGET@k=K,seed=S`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataLoader, complement, conformDataset, loadDataset, stratifiedSubset, type ImageDataset } from '../../src/data/index.js';
import { planExecution, describePlan } from '../../src/execution/index.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { loadModelFolder } from '../../src/transfer/model-folder.js';
import { HEAD_MODES, extractFeatures, featureMean, fitFewShotHead, fitNcm } from '../../src/transfer/heads/index.js';
import { F, disposeAll, fromTypedArray, tidy, type Tensor } from '../../src/tensor/index.js';
import { PEER_PYTHON, readPeerDir, writePeerInput } from '../../test/helpers/peer.js';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const from = arg('from');
const targetSpec = arg('target', 'mnist:all')!;
const sourceSpec = arg('source');
const k = Number(arg('k', '10'));
const seed = Number(arg('seed', '1'));
if (from === undefined) {
  console.error('usage: node dist/bench/fewshot-heads.js --from MODEL_DIR --target SPEC [--source SPEC] [--k 10] [--seed 1]');
  process.exit(2);
}

const plan = planExecution({ precision: 'auto', channelsLast: 'auto', device: 'cpu' });
const probe = loadModelFolder(from);
const [channels, height, width] = probe.config.inputSize;
const loader = (ds: ImageDataset): DataLoader => new DataLoader(ds, { batchSize: 256, mean: probe.config.mean, std: probe.config.std });
const pool = conformDataset(await loadDataset(targetSpec), { channels, height, width });
const train = stratifiedSubset(pool, k, seed);
const test = complement(pool, train);
const source = sourceSpec === undefined ? null : conformDataset(await loadDataset(sourceSpec), { channels, height, width });
console.log(`${from} -> ${targetSpec}: ${k} labels per class (${train.n} images), test ${test.n}; centre: ${sourceSpec ?? 'support mean'}; plan ${describePlan(plan)}`);

for (const mode of HEAD_MODES) {
  const { model } = loadModelFolder(from);
  try {
    const t0 = performance.now();
    const r = await fitFewShotHead(model, { mode, support: loader(train), source: mode === 'probe' || source === null ? null : loader(source), numClasses: train.classes.length, plan });
    const fitSeconds = (performance.now() - t0) / 1000;
    const ev = await evaluateModel(model, loader(test), { plan, classNames: test.classes });
    const extra = r.lambda === undefined ? '' : `  lambda ${r.lambda}`;
    console.log(`${mode.padEnd(6)} ${(ev.accuracy * 100).toFixed(2)}%  fit ${fitSeconds.toFixed(2)}s (features included)  total ${((performance.now() - t0) / 1000).toFixed(2)}s${extra}`);
  } finally {
    model.dispose();
  }
}

// NCM against the peer, on the same extracted features and the same centre.
const support = await extractFeatures(probe.model, loader(train), plan);
const query = await extractFeatures(probe.model, loader(test), plan);
const center: Tensor | undefined = source === null ? undefined : await featureMean(probe.model, loader(source), plan);
const t0 = performance.now();
const head = fitNcm(support.features, support.labels, train.classes.length, center ? { center } : {});
const ours = tidy(() => Int32Array.from(F.linear(query.features, head.weight, head.bias).argmax(1).toFlatArray()));
const tlcvSeconds = (performance.now() - t0) / 1000;
const dir = mkdtempSync(join(tmpdir(), 'tlcv-ncm-bench-'));
try {
  tidy(() =>
    writePeerInput(join(dir, 'in'), { support: support.features, labels: fromTypedArray(support.labels, [support.labels.length]).long(), query: query.features, ...(center ? { center } : {}) }, { numClasses: train.classes.length }),
  );
  const run = spawnSync(PEER_PYTHON, [resolve('peers', 'ncm.py'), join(dir, 'in'), join(dir, 'out')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`peers/ncm.py failed:\n${run.stderr}`);
  const peer = readPeerDir(join(dir, 'out'));
  const theirs = peer.tensors.get('predictions')!.toFlatArray();
  const agree = theirs.filter((c, i) => c === ours[i]).length / theirs.length;
  const acc = (p: ArrayLike<number>): string => ((Array.from(p).filter((c, i) => c === query.labels[i]).length / query.labels.length) * 100).toFixed(2);
  console.log(`ncm on the same features: tlcv ${acc(ours)}% in ${tlcvSeconds.toFixed(3)}s; PyTorch peer ${acc(theirs)}% in ${(peer.meta.seconds as number).toFixed(3)}s; same class for ${(agree * 100).toFixed(2)}% of test images`);
  disposeAll(peer.tensors);
} finally {
  rmSync(dir, { recursive: true, force: true });
  disposeAll([support.features, query.features, head, center ?? null]);
  probe.model.dispose();
}
