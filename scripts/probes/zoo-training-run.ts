/**
 * Training parity against PyTorch (zoo-training.ts prints it; a test runs a small one): one
 * model trained from scratch by tlcv's Learner and by torchvision (peers/zoo_training.py) with
 * the same recipe, the same initial weights, the same images in the same order and the
 * generator seeded alike at each epoch's start; then evaluated twice on the test images: as
 * trained, and after recomputing its BatchNorm statistics on the training images (AdaBN, as
 * torch.optim.swa_utils.update_bn does it). The second matters for MobileNetV3: with a
 * BatchNorm momentum of 0.01 the running statistics keep 0.99^steps of their initial 0 and 1
 * (a third after a hundred steps) and trail the weights for hundreds more, so eval-mode accuracy
 * after 315 steps sits at chance on both sides (11.6%; 76.8% once recomputed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { conformDataset, DataLoader, loadDataset, type ImageDataset } from '../../src/data/index.js';
import { planExecution } from '../../src/execution/index.js';
import { readPeerDir, writePeerInput } from '../../src/io/peer-files.js';
import { createModel, type ClassifierModel } from '../../src/models/index.js';
import { Learner, epochSeed, evaluateModel } from '../../src/train/index.js';
import { adaptBatchNorm } from '../../src/transfer/adapt/index.js';
import { fromTypedArray, getNumThreads, inferenceMode, manualSeed, tidy, type Tensor } from '../../src/tensor/index.js';

/** The recipe both sides train with: AdamW, no schedule, label smoothing, batch 64. */
export const RECIPE = { batch: 64, lr: 1e-3, weightDecay: 1e-4, labelSmoothing: 0.1, seed: 0 };
const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

/**
 * Fashion-MNIST, k images per class (seed 0), gray repeated to RGB and resized to `size` px.
 *
 * @example
 * const train = await fashionMnist('train', 400, 32); // 4,000 images
 */
export async function fashionMnist(split: 'train' | 'test', k: number, size: number): Promise<ImageDataset> {
  return conformDataset(await loadDataset(`fashion-mnist:${split}@k=${k},seed=0`), { channels: 3, height: size, width: size });
}

/** A test evaluation: accuracy and the logits [test.n, 10], row by row. */
export interface Evaluation {
  accuracy: number;
  logits: Float32Array;
}

/** One side's run: mean training loss per epoch, seconds of training, and the two evaluations. */
export interface Side {
  losses: number[];
  seconds: number;
  trained: Evaluation;
  recalibrated: Evaluation;
}

type TlcvRun = Side & { epochs: number[]; orders: Int32Array[]; mean: number[]; std: number[] };

async function evaluateTlcv(model: ClassifierModel, test: DataLoader): Promise<Evaluation> {
  const r = await evaluateModel(model, test, { plan: fp32, classNames: test.dataset.classes });
  const logits = new Float32Array(
    [...test].flatMap((b) => {
      const out = tidy(() => inferenceMode(() => model.forward(b.x)).toFlatArray());
      b.x.dispose();
      b.y.dispose();
      return out;
    }),
  );
  return { accuracy: r.accuracy, logits };
}

async function trainTlcv(name: string, train: ImageDataset, test: ImageDataset, epochs: number): Promise<TlcvRun> {
  manualSeed(RECIPE.seed);
  const model = createModel(name, { numClasses: 10, inputSize: [train.height, train.width] });
  try {
    const { mean, std } = model.config;
    const loader = new DataLoader(train, { batchSize: RECIPE.batch, shuffle: true, seed: RECIPE.seed, mean, std });
    const seen: number[] = [];
    // The loader as the Learner reads it, noting which epochs it is asked for (their orders go to the peer).
    const source = { length: loader.length, setEpoch: (e: number) => (seen.push(e), loader.setEpoch(e)), [Symbol.iterator]: () => loader[Symbol.iterator]() };
    const options = { epochs, batchSize: RECIPE.batch, lr: RECIPE.lr, optimizer: 'adamw', weightDecay: RECIPE.weightDecay, scheduler: 'none', labelSmoothing: RECIPE.labelSmoothing, seed: RECIPE.seed, augment: 'none' } as const;
    const t0 = performance.now();
    const fit = await new Learner({ model, train: source, options, plan: fp32, quiet: true }).fit();
    const seconds = (performance.now() - t0) / 1000;
    const testLoader = new DataLoader(test, { batchSize: 256, mean, std });
    const trained = await evaluateTlcv(model, testLoader);
    await adaptBatchNorm(model, new DataLoader(train, { batchSize: RECIPE.batch, mean, std }), fp32);
    const recalibrated = await evaluateTlcv(model, testLoader);
    return { losses: fit.history.map((h) => h.trainLoss), seconds, trained, recalibrated, epochs: seen, orders: seen.map((e) => loader.order(e)), mean, std };
  } finally {
    model.dispose();
  }
}

// Kept out of the scope: the caller disposes them once written.
const asTensors = (ds: ImageDataset): [Tensor, Tensor] => tidy(() => [fromTypedArray(ds.images, [ds.n, 3, ds.height, ds.width]).keep(), fromTypedArray(ds.labels, [ds.n]).to('int64').keep()]);

function trainTorch(name: string, train: ImageDataset, test: ImageDataset, t: TlcvRun): Side {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-zoo-training-'));
  try {
    const [trainX, trainY] = asTensors(train);
    const [testX, testY] = asTensors(test);
    const orders = tidy(() => fromTypedArray(Int32Array.from(t.orders.flatMap((o) => [...o])), [t.orders.length, train.n]).to('int64').keep());
    const inputs = { train_x: trainX, train_y: trainY, test_x: testX, test_y: testY, orders };
    writePeerInput(join(dir, 'in'), inputs, {
      model: name,
      batch: RECIPE.batch,
      lr: RECIPE.lr,
      weight_decay: RECIPE.weightDecay,
      label_smoothing: RECIPE.labelSmoothing,
      seed: RECIPE.seed,
      epoch_seeds: t.epochs.map((e) => epochSeed(RECIPE.seed, e)),
      mean: t.mean,
      std: t.std,
      threads: getNumThreads(),
    });
    for (const v of Object.values(inputs)) v.dispose();
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'peers', 'zoo_training.py');
    const r = spawnSync(process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', [script, join(dir, 'in'), join(dir, 'out')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`the PyTorch peer failed (exit ${r.status})`);
    const out = readPeerDir(join(dir, 'out'));
    const m = out.meta as { train_loss: number[]; test_acc: number; recalibrated_acc: number; seconds: number };
    const flat = (key: string): Float32Array => {
      const v = out.tensors.get(key)!;
      const a = new Float32Array(v.toFlatArray());
      v.dispose();
      return a;
    };
    return { losses: m.train_loss, seconds: m.seconds, trained: { accuracy: m.test_acc, logits: flat('test_logits') }, recalibrated: { accuracy: m.recalibrated_acc, logits: flat('recalibrated_logits') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const largestDifference = (a: Float32Array, b: Float32Array): number => a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!)), 0);

/**
 * Trains `name` from scratch on `train` with tlcv's Learner, then with torchvision, with the
 * same recipe, weights, order and seeds; both evaluated on `test` as trained and recalibrated.
 *
 * @example
 * const { tlcv, torch, logitDiff } = await trainingParity('mobilenet_v3_small', train, test, 3);
 */
export async function trainingParity(name: string, train: ImageDataset, test: ImageDataset, epochs: number): Promise<{ tlcv: Side; torch: Side; logitDiff: number }> {
  const t = await trainTlcv(name, train, test, epochs);
  const p = trainTorch(name, train, test, t);
  const logitDiff = Math.max(largestDifference(t.trained.logits, p.trained.logits), largestDifference(t.recalibrated.logits, p.recalibrated.logits));
  return { tlcv: t, torch: p, logitDiff };
}
