/**
 * How many source images the demo trains on, from this machine's measured speed: the source
 * stage (seed-cnn, 4 epochs over Fashion-MNIST) takes 4 minutes at 1,000 images/s and 17 at
 * 230 images/s (a two-core CPU without bf16), so the demo takes the largest of a few FIXED
 * tiers whose predicted time fits a budget. Fixed tiers rather than a continuous count: the
 * same machine then picks the same tier, and so the same metrics, run after run (a speed close
 * to a tier's edge can still fall either side of it).
 */
import { TlcvError } from '../errors.js';
import { createModel } from '../models/index.js';
import { stratifiedSubset, type ImageDataset } from '../data/index.js';
import { Learner, type TrainOptions } from '../train/index.js';

/** The source-image counts the demo chooses among, largest first (60,000 is all of Fashion-MNIST's training set). */
export const SOURCE_TIERS = [60000, 30000, 15000, 6000] as const;
/** Seconds the source stage may take, so that the whole demo stays within about 5 minutes. */
export const SOURCE_BUDGET_SECONDS = 180;

/** `--source-images`: a tier, or 'auto' (measure, then choose). */
export type SourceImagesChoice = number | 'auto';

export interface SourcePlan {
  /** Source images the stage trains on (never more than the dataset holds). */
  images: number;
  /** Images in the source dataset. */
  of: number;
  /** Measured training speed (images/s), null when nothing was measured (a forced tier, --quick). */
  imagesPerSecond: number | null;
  /** Predicted seconds of the source stage at that speed, null when nothing was measured. */
  predictedSeconds: number | null;
  /** How the count was chosen. */
  how: 'auto' | 'forced' | 'quick';
}

/**
 * Parses `--source-images`: 'auto' or one of {@link SOURCE_TIERS} (thousands separators allowed).
 *
 * @example
 * parseSourceImages('15000'); // 15000
 * parseSourceImages('auto'); // 'auto'
 */
export function parseSourceImages(raw: string): SourceImagesChoice {
  if (raw === 'auto') return 'auto';
  const n = /^\d{1,3}(,?\d{3})*$|^\d+$/.test(raw) ? Number(raw.replaceAll(',', '')) : NaN;
  if (!(SOURCE_TIERS as readonly number[]).includes(n)) throw new TlcvError('ARGUMENT', `--source-images: expected auto or one of ${SOURCE_TIERS.join(', ')}, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The largest tier (capped at the dataset's size) whose predicted source stage, `epochs` passes
 * at `imagesPerSecond`, fits `budgetSeconds`; the smallest tier when none fits.
 *
 * @example
 * chooseSourceTier({ imagesPerSecond: 230, epochs: 4, available: 60000 }); // 6000 (104 s; 15,000 would take 261 s)
 */
export function chooseSourceTier(o: { imagesPerSecond: number; epochs: number; available: number; budgetSeconds?: number }): number {
  const budget = o.budgetSeconds ?? SOURCE_BUDGET_SECONDS;
  const tiers = [...new Set(SOURCE_TIERS.map((t) => Math.min(t, o.available)))];
  for (const t of tiers) if ((o.epochs * t) / o.imagesPerSecond <= budget) return t;
  return tiers[tiers.length - 1]!;
}

/**
 * The one line the demo prints about its choice.
 *
 * @example
 * describeSourcePlan({ images: 6000, of: 60000, imagesPerSecond: 230, predictedSeconds: 104, how: 'auto' });
 * // 'seed-cnn trains at 230 images/s here: the source stage uses 6,000 of 60,000 images to stay within 3 minutes (about 104 s); --source-images 60000 for all of them'
 */
export function describeSourcePlan(p: SourcePlan, budgetSeconds = SOURCE_BUDGET_SECONDS): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const speed = p.imagesPerSecond === null ? '' : `seed-cnn trains at ${n(Math.round(p.imagesPerSecond))} images/s here: `;
  const about = p.predictedSeconds === null ? '' : ` (about ${p.predictedSeconds.toFixed(0)} s)`;
  const within = `${budgetSeconds % 60 === 0 ? `${budgetSeconds / 60} minutes` : `${budgetSeconds} s`}`;
  if (p.images >= p.of) return `${speed}the source stage uses all ${n(p.of)} images${p.how === 'auto' ? `, within ${within}${about}` : about}`;
  const why = p.how === 'auto' ? ` to stay within ${within}${about}` : p.how === 'forced' ? ` (--source-images)${about}` : '';
  // The largest tier stands for all images of a smaller source set too (a tier is capped at its size).
  return `${speed}the source stage uses ${n(p.images)} of ${n(p.of)} images${why}; --source-images ${SOURCE_TIERS[0]} for all of them`;
}

/** The subset of `source` with `images` images, stratified by class (the whole set when it asks for all). */
export function sourceSubset(source: ImageDataset, images: number, seed: number): ImageDataset {
  return images >= source.n ? source : stratifiedSubset(source, Math.floor(images / source.classes.length), seed);
}

/**
 * Images per second of the source stage's training here: a throwaway seed-cnn trained by a
 * Learner with the source stage's options (batch, optimizer, plan timing) for two short epochs
 * on a stratified sample, timing the second (the first pays for plan timing and warm-up). The
 * real run's model, and the global random stream, are not touched: the caller seeds both after.
 *
 * @example
 * const speed = await measureSourceSpeed(source, options);
 */
export async function measureSourceSpeed(source: ImageDataset, options: TrainOptions, batches = 6): Promise<number> {
  // Capped by the smallest class, which stratifiedSubset cannot take more from.
  const counts = new Array<number>(source.classes.length).fill(0);
  for (const label of source.labels) counts[label] = (counts[label] ?? 0) + 1;
  const perClass = Math.max(1, Math.min(Math.floor((batches * options.batchSize) / source.classes.length), ...counts));
  const sample = perClass * source.classes.length >= source.n ? source : stratifiedSubset(source, perClass, options.seed);
  const model = createModel('seed-cnn', { numClasses: source.classes.length, inChannels: source.channels, inputSize: [source.height, source.width] });
  try {
    const learn = new Learner({ model, train: sample, val: null, options: { ...options, epochs: 2 }, quiet: true });
    await learn.fit();
    return sample.n / learn.epochSeconds[learn.epochSeconds.length - 1]!;
  } finally {
    model.dispose();
  }
}
