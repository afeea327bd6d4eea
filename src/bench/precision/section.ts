/**
 * The precision section: seed-cnn trained briefly on the MNIST digits at fp32 and at tlcv's
 * default (auto) plan, tested on held-out digits: the accuracy the faster plan must keep.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import type { BenchReport, TargetCheck } from '../core/report.js';
import { digits, writeImageSet } from '../core/data-files.js';
import { pct, table } from '../core/format.js';
import type { Shape3 } from '../core/jobs.js';
import type { PrecisionResult } from './types.js';

function config(preset: Preset): SectionConfig<'precision'> {
  const quick = preset === 'quick';
  // Two runs that start alike drift apart; the shorter the training, the noisier the gap.
  return { trainImages: quick ? 3000 : 6000, testImages: quick ? 2000 : 4000, epochs: quick ? 2 : 3, batch: 64 };
}

async function run(ctx: BenchContext, p: SectionConfig<'precision'>): Promise<void> {
  const shape: Shape3 = [1, 28, 28];
  const [trainSet, testSet] = await digits(p.trainImages, p.testImages, shape, ctx.cfg.seed);
  const train = writeImageSet(ctx.dir, 'precision-train', trainSet);
  const test = writeImageSet(ctx.dir, 'precision-test', testSet);
  const once = (precision: 'fp32' | 'auto'): Promise<PrecisionResult> =>
    ctx.tlcv.request<PrecisionResult>({ kind: 'precision', precision, train, test, epochs: p.epochs, batch: p.batch, seed: ctx.cfg.seed });
  const fp32 = await once('fp32');
  const auto = await once('auto');
  ctx.report.precision = { fp32: fp32.testAcc, auto: auto.testAcc, autoPlan: auto.plan, deltaPoints: (auto.testAcc - fp32.testAcc) * 100, trainImages: train.n, testImages: test.n, epochs: p.epochs };
  ctx.log(`  seed-cnn ${p.epochs} epochs: fp32 ${(fp32.testAcc * 100).toFixed(2)}%, ${auto.plan} ${(auto.testAcc * 100).toFixed(2)}%`);
}

function markdown(r: BenchReport): string[] {
  const p = r.precision;
  if (!p) return [];
  return [`Accuracy of the default plan: seed-cnn, ${p.epochs} epochs on ${p.trainImages} digits, tested on ${p.testImages}\n\n${table(['fp32', p.autoPlan, 'delta'], [[pct(p.fp32), pct(p.auto), `${p.deltaPoints.toFixed(2)} points`]])}`];
}

/** Issue 7's target 4, on accuracy. */
function targets(r: BenchReport): TargetCheck[] {
  if (!r.precision) return [];
  const d = r.precision.deltaPoints;
  return [{ name: `4. accuracy, ${r.precision.autoPlan} vs fp32 (seed-cnn, digits)`, target: 'within 0.5 points', measured: `${d >= 0 ? '+' : ''}${d.toFixed(2)} points`, met: Math.abs(d) <= 0.5 }];
}

export const section: BenchSection<'precision'> = {
  name: 'precision',
  describe: "seed-cnn's accuracy on the digits at fp32 and at the default plan",
  processes: 'shared',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
  targets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
