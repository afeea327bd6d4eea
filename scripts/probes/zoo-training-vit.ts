/**
 * Training parity of the transformer half of the zoo, run by hand (too slow for CI):
 *
 *   node dist/scripts/probes/zoo-training-vit.js [--models convnext_tiny,vit_small] [--train 300] [--test 100] [--epochs 4] [--seeds 1,2,3] [--control] [--json]
 *
 * Trains each model from scratch on Fashion-MNIST at 32 px (28 px padded, gray as RGB), `--train`
 * images per class, with tlcv's Learner, then with PyTorch (peers/zoo_training_vit.py) on the very
 * same batches, from the same initial weights (the same seed: tlcv draws torchvision's init), with
 * the same recipe (AdamW lr 1e-3, weight decay 0.05, constant lr, batch 64, fp32, no augmentation,
 * no label smoothing), and prints both test accuracies on `--test` images per class. `vit_small` is
 * torchvision's VisionTransformer with patch 8, 6 layers, 3 heads, width 192 (ViT-Tiny's), built
 * by tlcv's VisionTransformer class; convnext_tiny is the zoo's, with its stochastic depth 0.1.
 * `vit_mini` (2 layers, width 64) is the size test/training-parity-vit.test.ts runs. Each line
 * also gives every epoch's training loss on both sides; --json prints one JSON object per run.
 * The two sides' float rounding differs (one ulp in attention, say), and training amplifies it:
 * the losses agree to four digits for the first epochs, then part. With several --seeds the
 * probe also prints the mean accuracy of each side, which seed-to-seed noise moves less. With
 * --control, PyTorch trains a second time with its input normalised in an algebraically equal
 * form (other rounding): how far PyTorch parts from itself is the yardstick for tlcv's distance.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DataLoader, checkDataset, loadDataset, type Batch, type BatchSource, type ImageDataset } from '../../src/data/index.js';
import { createModel, getModelConfig, VisionTransformer, type ClassifierModel } from '../../src/models/index.js';
import { Learner, evaluateModel } from '../../src/train/index.js';
import { writePeerInput } from '../../src/io/peer-files.js';
import { fromTypedArray, getNumThreads, manualSeed, tidy } from '../../src/tensor/index.js';

const { values: args } = parseArgs({ options: { models: { type: 'string', default: 'convnext_tiny,vit_small' }, train: { type: 'string', default: '300' }, test: { type: 'string', default: '100' }, epochs: { type: 'string', default: '4' }, seeds: { type: 'string', default: '1' }, control: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
const EPOCHS = Number(args.epochs);
const RECIPE = { batchSize: 64, lr: 1e-3, weightDecay: 0.05 };
// Fashion-MNIST's statistics, the same on each of the three channels.
const MEAN = [0.286, 0.286, 0.286];
const STD = [0.353, 0.353, 0.353];
const VITS: Record<string, { patchSize: number; layers: number; heads: number; hidden: number; mlpDim: number }> = {
  vit_small: { patchSize: 8, layers: 6, heads: 3, hidden: 192, mlpDim: 768 },
  vit_mini: { patchSize: 8, layers: 2, heads: 2, hidden: 64, mlpDim: 128 },
};

/** 28 px gray to 32 px RGB: a 2-pixel black border, the gray copied to each channel (no resampling, so both sides see the same bytes). */
function toRgb32(ds: ImageDataset): ImageDataset {
  const out = new Uint8Array(ds.n * 3 * 32 * 32);
  for (let i = 0; i < ds.n; i += 1) {
    for (let y = 0; y < 28; y += 1) {
      for (let x = 0; x < 28; x += 1) {
        const v = ds.images[i * 784 + y * 28 + x]!;
        for (let c = 0; c < 3; c += 1) out[((i * 3 + c) * 32 + y + 2) * 32 + x + 2] = v;
      }
    }
  }
  return checkDataset({ ...ds, images: out, channels: 3, height: 32, width: 32 });
}

function build(name: string, seed: number): ClassifierModel {
  manualSeed(seed);
  if (name === 'convnext_tiny') return createModel('convnext_tiny', { numClasses: 10, inputSize: [32, 32] });
  const vit = VITS[name];
  if (vit === undefined) throw new Error(`unknown model ${name}: convnext_tiny, ${Object.keys(VITS).join(', ')}`);
  return new VisionTransformer({ ...getModelConfig('vit_b_16'), name, inputSize: [3, 32, 32], numClasses: 10, mean: MEAN, std: STD, options: { ...vit, dropout: 0, attentionDropout: 0 } });
}

/** The loader, recording each epoch's number and the order its batches visited the images in. */
class Recorded implements BatchSource {
  readonly epochs: number[] = [];
  readonly orders: number[][] = [];
  constructor(private readonly loader: DataLoader) {}
  get length(): number {
    return this.loader.length;
  }
  setEpoch(epoch: number): void {
    this.loader.setEpoch(epoch);
    this.epochs.push(epoch);
    this.orders.push([]);
  }
  *[Symbol.iterator](): Iterator<Batch> {
    for (const b of this.loader) {
      this.orders[this.orders.length - 1]!.push(...b.indices);
      yield b;
    }
  }
}

interface Side {
  accuracy: number;
  losses: number[];
  seconds: number;
}

/** One model and seed: tlcv's Learner, then PyTorch on the batches the Learner drew. */
async function runBoth(name: string, seed: number, train: ImageDataset, test: ImageDataset): Promise<{ tlcv: Side; pytorch: Side; control: Side | null }> {
  const plan = { bf16: false, channelsLast: false, device: 'cpu' };
  const model = build(name, seed);
  const source = new Recorded(new DataLoader(train, { batchSize: RECIPE.batchSize, shuffle: true, seed, mean: MEAN, std: STD }));
  const t0 = performance.now();
  const learn = new Learner({ model, train: source, val: null, plan, quiet: true, options: { epochs: EPOCHS, batchSize: RECIPE.batchSize, lr: RECIPE.lr, weightDecay: RECIPE.weightDecay, optimizer: 'adamw', scheduler: 'none', labelSmoothing: 0, augment: 'none', seed } });
  const fit = await learn.fit();
  const seconds = (performance.now() - t0) / 1000;
  const ev = await evaluateModel(model, new DataLoader(test, { batchSize: 256, mean: MEAN, std: STD }), { plan, classNames: test.classes });
  model.dispose();
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-zoo-vit-'));
  try {
    const t = {
      'train.x': fromTypedArray(train.images, [train.n, 3, 32, 32]),
      'train.y': fromTypedArray(train.labels, [train.n]),
      'test.x': fromTypedArray(test.images, [test.n, 3, 32, 32]),
      'test.y': fromTypedArray(test.labels, [test.n]),
      order: fromTypedArray(Int32Array.from(source.orders.flat()), [source.orders.length, train.n]),
    };
    const meta = { model: name, seed, epochs: source.epochs, ...RECIPE, mean: MEAN, std: STD, threads: getNumThreads(), vit: VITS[name] ?? null };
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'peers', 'zoo_training_vit.py');
    const peer = (control: boolean): Side => {
      tidy(() => writePeerInput(dir, t, { ...meta, control }));
      const r = spawnSync(process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', [script, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`the PyTorch peer failed:\n${r.stderr}`);
      return JSON.parse(r.stdout) as Side;
    };
    try {
      return { tlcv: { accuracy: ev.accuracy, losses: fit.history.map((h) => h.trainLoss), seconds }, pytorch: peer(false), control: args.control ? peer(true) : null };
    } finally {
      for (const v of Object.values(t)) v.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const train = toRgb32(await loadDataset(`fashion-mnist:train@k=${args.train},seed=1`));
  const test = toRgb32(await loadDataset(`fashion-mnist:test@k=${args.test},seed=2`));
  const seeds = args.seeds.split(',').map(Number);
  if (!args.json) console.log(`Fashion-MNIST at 32 px: ${train.n} training and ${test.n} test images; ${EPOCHS} epochs, batch ${RECIPE.batchSize}, AdamW lr ${RECIPE.lr} wd ${RECIPE.weightDecay}; ${getNumThreads()} threads; seeds ${seeds.join(', ')}`);
  const pts = (a: number): string => (100 * a).toFixed(2);
  const curve = (l: number[]): string => l.map((v) => v.toFixed(4)).join(' ');
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  for (const name of args.models.split(',')) {
    const runs: Awaited<ReturnType<typeof runBoth>>[] = [];
    for (const seed of seeds) {
      const run = await runBoth(name, seed, train, test);
      runs.push(run);
      const { tlcv, pytorch, control } = run;
      if (args.json) {
        console.log(JSON.stringify({ model: name, seed, tlcv, pytorch, ...(control ? { control } : {}) }));
        continue;
      }
      console.log(`${name} seed ${seed}: tlcv ${pts(tlcv.accuracy)}% (${tlcv.seconds.toFixed(0)} s), PyTorch ${pts(pytorch.accuracy)}% (${pytorch.seconds.toFixed(0)} s): difference ${(100 * (tlcv.accuracy - pytorch.accuracy)).toFixed(2)} points`);
      console.log(`  training loss by epoch: tlcv ${curve(tlcv.losses)}; PyTorch ${curve(pytorch.losses)}`);
      if (control) console.log(`  PyTorch control (same maths, other rounding): ${pts(control.accuracy)}%, ${(100 * (control.accuracy - pytorch.accuracy)).toFixed(2)} points from PyTorch; losses ${curve(control.losses)}`);
    }
    if (!args.json && seeds.length > 1) {
      const avg = (side: 'tlcv' | 'pytorch'): number => mean(runs.map((r) => r[side].accuracy));
      const controls = runs.flatMap((r) => (r.control ? [r.control.accuracy] : []));
      const extra = controls.length > 0 ? `; PyTorch control ${pts(mean(controls))}%` : '';
      console.log(`${name}, mean over ${seeds.length} seeds: tlcv ${pts(avg('tlcv'))}%, PyTorch ${pts(avg('pytorch'))}%: difference ${(100 * (avg('tlcv') - avg('pytorch'))).toFixed(2)} points${extra}`);
    }
  }
}

await main();
