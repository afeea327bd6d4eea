/**
 * The few-shot section: the demo's setting (a seed-cnn trained on a source domain, k labels per
 * class of the target domain, the rest of it the test set), trained feature extraction against
 * the training-free heads, each as the `tlcv transfer` command a user runs, with its accuracy
 * and wall time; and tlcv's NCM against the PyTorch peer (peers/ncm.py) on the same features.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../../errors.js';
import { F, disposeAll, fromTypedArray, tidy, type Tensor } from '../../tensor/index.js';
import { DataLoader, loadDataset, type ImageDataset } from '../../data/index.js';
import { planExecution } from '../../execution/index.js';
import { readPeerDir, writePeerInput } from '../../io/peer-files.js';
import { loadModelFolder } from '../../runs/index.js';
import { extractFeatures, featureMean, fitNcm } from '../../transfer/heads/index.js';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import { CommandRunner, withModifiers } from '../core/commands.js';
import { packageFile } from '../core/workers.js';
import { fewshotMarkdown, fewshotTargets } from './report.js';
import type { FewshotBenchConfig, FewshotFigures, FewshotRow } from './types.js';

/**
 * The section's settings: `full` is the demo's source (all of Fashion-MNIST's training set, 4
 * epochs) and five splits; `quick` a short source and one split, which still shows each head's effect.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), fewshot: fewshotBenchConfig('full') };
 */
export function fewshotBenchConfig(preset: Preset): FewshotBenchConfig {
  const quick = preset === 'quick';
  return {
    source: quick ? 'fashion-mnist:train@k=1000,seed=1' : 'fashion-mnist:train',
    sourceEpochs: 4,
    target: 'mnist:all',
    k: 10,
    seeds: quick ? [1] : [1, 2, 3, 4, 5],
    featureExtraction: { epochs: 60, batch: 32, lr: 2e-3 },
    center: 'fashion-mnist:train@k=100,seed=1',
    knnK: 5,
  };
}

/** The fit time `tlcv transfer` prints: "wrote DIR (12.3s, fit 4.5s)" (data loading and start-up excluded). */
export function fitSeconds(stdout: string): number {
  const m = /\(\d+\.\ds, fit (\d+\.\d)s\)/.exec(stdout);
  if (m === null) throw new TlcvError('TRAINING', `tlcv transfer printed no fit time: ${stdout.trim().slice(-200)}`);
  return Number(m[1]);
}


function methods(c: FewshotBenchConfig, seed: number): [string, string[]][] {
  const fe = c.featureExtraction;
  return [
    ['feature extraction (trained head)', ['--mode', 'feature-extraction', '--epochs', String(fe.epochs), '--batch-size', String(fe.batch), '--lr', String(fe.lr), '--seed', String(seed)]],
    ['ncm', ['--mode', 'ncm', '--center', c.center]],
    ['probe', ['--mode', 'probe', '--seed', String(seed)]],
    [`knn (k=${c.knnK})`, ['--mode', 'knn', '--k', String(c.knnK), '--center', c.center]],
  ];
}

async function run(ctx: BenchContext, c: FewshotBenchConfig): Promise<void> {
  const runs = new CommandRunner(join(ctx.dir, 'fewshot'), ctx.cfg.threads, ctx.log);
  mkdirSync(runs.dir, { recursive: true });
  const source = runs.path('fm-source');
  const pretrain = await runs.tlcv(['pretrain', '--data', c.source, '--arch', 'seed-cnn', '--epochs', String(c.sourceEpochs), '--lr', '2e-3', '--val', 'none', '--seed', '1', '--out', source]);
  const rows = new Map<string, FewshotRow>();
  // Plans are timed once per machine, model and batch and then read from the cache, as in any
  // user's second run: one untimed run of each mode first, so that no figure carries that one-off.
  for (const [method, flags] of methods(c, c.seeds[0]!)) {
    await runs.tlcv(['transfer', '--model', source, '--data', withModifiers(c.target, `k=${c.k},seed=${c.seeds[0]}`), '--val', 'none', ...flags, '--out', runs.path(`warm-up-${method.split(' ')[0]}`)]);
  }
  for (const seed of c.seeds) {
    const support = withModifiers(c.target, `k=${c.k},seed=${seed}`);
    const test = withModifiers(c.target, `k=${c.k},seed=${seed},rest`);
    for (const [method, flags] of methods(c, seed)) {
      const out = runs.path(`${method.split(' ')[0]}-${seed}`);
      const fit = await runs.tlcv(['transfer', '--model', source, '--data', support, '--val', 'none', ...flags, '--out', out]);
      const ev = await runs.accuracy(out, test);
      const row = rows.get(method) ?? { method, accuracies: [], accuracy: 0, seconds: 0, fitSeconds: 0, command: fit.command, evaluate: ev.command };
      row.accuracies.push(ev.accuracy);
      row.accuracy = row.accuracies.reduce((a, b) => a + b, 0) / row.accuracies.length;
      row.seconds += fit.seconds / c.seeds.length;
      row.fitSeconds += fitSeconds(fit.stdout) / c.seeds.length;
      rows.set(method, row);
      ctx.log(`  ${method}, seed ${seed}: ${(ev.accuracy * 100).toFixed(2)}%, fit ${fitSeconds(fit.stdout).toFixed(1)}s, command ${fit.seconds.toFixed(1)}s`);
    }
  }
  const figures: FewshotFigures = { source: c.source, sourceCommand: pretrain.command, target: c.target, k: c.k, seeds: c.seeds, rows: [...rows.values()], peer: null };
  ctx.report.fewshot = figures;
  figures.peer = await ncmAgainstPeer(ctx, source, c);
}

/** NCM on the same extracted features in tlcv and in the PyTorch peer: agreement, accuracy, time. */
async function ncmAgainstPeer(ctx: BenchContext, sourceDir: string, c: FewshotBenchConfig): Promise<FewshotFigures['peer']> {
  const { model, config } = loadModelFolder(sourceDir);
  const [channels, height, width] = config.inputSize;
  const seed = c.seeds[0]!;
  const load = (spec: string): Promise<ImageDataset> => loadDataset(spec, { channels, size: [height, width] });
  const loader = (ds: ImageDataset): DataLoader => new DataLoader(ds, { batchSize: 256, mean: config.mean, std: config.std });
  const plan = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });
  const owned: (Tensor | null)[] = [];
  try {
    const support = await extractFeatures(model, loader(await load(withModifiers(c.target, `k=${c.k},seed=${seed}`))), plan);
    owned.push(support.features);
    const query = await extractFeatures(model, loader(await load(withModifiers(c.target, `k=${c.k},seed=${seed},rest`))), plan);
    owned.push(query.features);
    const center = await featureMean(model, loader(await load(c.center)), plan);
    owned.push(center);
    const t0 = performance.now();
    const head = fitNcm(support.features, support.labels, config.numClasses, { center });
    const ours = tidy(() => F.linear(query.features, head.weight, head.bias).argmax(1).toFlatArray());
    const tlcvSeconds = (performance.now() - t0) / 1000;
    owned.push(head.weight, head.bias, head.center, head.classMeans);
    const dir = join(ctx.dir, 'fewshot', 'ncm-peer');
    tidy(() => writePeerInput(join(dir, 'in'), { support: support.features, labels: fromTypedArray(support.labels, [support.labels.length]).long(), query: query.features, center }, { numClasses: config.numClasses }));
    const run = spawnSync(ctx.workerEnv.python, [packageFile('peers/ncm.py'), join(dir, 'in'), join(dir, 'out')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`peers/ncm.py failed: ${run.stderr.trim().slice(-400)}`);
    const peer = readPeerDir(join(dir, 'out'));
    const theirs = peer.tensors.get('predictions')!.toFlatArray();
    disposeAll(peer.tensors);
    const acc = (p: number[]): number => p.filter((v, i) => v === query.labels[i]).length / p.length;
    return { agreement: theirs.filter((v, i) => v === ours[i]).length / theirs.length, tlcvAccuracy: acc(ours), peerAccuracy: acc(theirs), tlcvSeconds, peerSeconds: peer.meta.seconds as number };
  } finally {
    disposeAll(owned);
    model.dispose();
  }
}

export const section: BenchSection<'fewshot'> = {
  name: 'fewshot',
  describe: 'training-free heads against feature extraction, as tlcv commands',
  processes: 'own',
  inPresets: false,
  config: fewshotBenchConfig,
  empty: null,
  run,
  markdown: fewshotMarkdown,
  targets: fewshotTargets,
};
