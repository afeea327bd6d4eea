/**
 * The transfer section: the spec's loop on the MNIST digits at 32x32x3 with a frozen, randomly
 * initialised ResNet-18 body (no pretrained weights are needed to time it, and both sides start
 * from the same weights), as feature extraction and as fine-tuning of its last block. tlcv caches
 * the frozen part's outputs; PyTorch recomputes them every epoch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedBatchOrder } from '../../train/index.js';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import type { BenchReport, TargetCheck } from '../core/report.js';
import { digits, writeImageSet } from '../core/data-files.js';
import { num, pct, ratio, ratio3, table } from '../core/format.js';
import type { Shape3 } from '../core/jobs.js';
import type { TransferFigures, TransferJob, TransferResult } from './types.js';

const RESNET_MEAN = [0.485, 0.456, 0.406];
const RESNET_STD = [0.229, 0.224, 0.225];

function config(preset: Preset): SectionConfig<'transfer'> {
  const quick = preset === 'quick';
  return { trainImages: quick ? 1500 : 6000, testImages: quick ? 1500 : 4000, size: 32, epochs: 10, batch: 64, lr: 0.01, momentum: 0.9, stepSize: 7, gamma: 0.1, fineTune: true };
}

async function run(ctx: BenchContext, t: SectionConfig<'transfer'>): Promise<void> {
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

function markdown(r: BenchReport): string[] {
  if (r.transfer.length === 0) return [];
  const rows = r.transfer.map((t) => [
    `${t.workload}, ${t.epochs} epochs, ${t.trainImages} train / ${t.testImages} test`,
    `${num(t.tlcv.seconds)} s${t.tlcv.cacheSeconds !== undefined ? ` (cache ${num(t.tlcv.cacheSeconds)} s)` : ''}`,
    `${num(t.peer.seconds)} s`,
    ratio(t.timeRatio),
    pct(t.tlcv.testAcc),
    pct(t.peer.testAcc),
  ]);
  return [`The spec's loop on the digits at 32x32x3 (random-init ResNet-18, same weights both sides; PyTorch recomputes the frozen part every epoch, tlcv caches it)\n\n${table(['workload', 'tlcv', 'PyTorch', 'PyTorch / tlcv time', 'tlcv test acc', 'PyTorch test acc'], rows)}`];
}

/** Issue 7's targets 2 and 3. */
function targets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const fe = r.transfer.find((t) => t.workload.startsWith('feature extraction'));
  if (fe) {
    const d = fe.accuracyDeltaPoints;
    out.push({
      name: '2. feature extraction, 10 epochs: PyTorch time / tlcv time, at equal accuracy',
      target: '>= 8x, accuracy within 0.5 points',
      measured: `${ratio3(fe.timeRatio)}, ${d >= 0 ? '+' : ''}${d.toFixed(2)} points`,
      met: fe.timeRatio >= 8 && Math.abs(d) <= 0.5,
    });
  }
  const ft = r.transfer.find((t) => t.workload.startsWith('fine-tune'));
  if (ft) out.push({ name: '3. fine-tune last block, cached prefix: PyTorch time / tlcv time', target: 'report', measured: `${ratio3(ft.timeRatio)}, ${ft.accuracyDeltaPoints.toFixed(2)} points`, met: null });
  return out;
}

export const section: BenchSection<'transfer'> = {
  name: 'transfer',
  describe: 'feature extraction and fine-tuning on the digits (frozen ResNet-18 body)',
  processes: 'shared',
  inPresets: true,
  config,
  empty: [],
  run,
  markdown,
  targets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
