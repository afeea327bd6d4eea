/**
 * `diagnose`: what is wrong with an image folder before anyone trains on it. One streaming
 * pass (scan.ts) keeps a few hundred numbers per image; the checks then run on that index:
 * corrupt files, exact and near duplicates, copies across splits, class balance, image sizes
 * and colour modes, and likely label errors (confident learning on out-of-fold probe
 * probabilities). Findings are data, never errors: the caller decides what fails.
 */
import { relative } from 'node:path';
import { TlcvError } from '../errors.js';
import { classBalance, colourModes, sizeOutliers, type Imbalance, type ModeReport } from './checks.js';
import { PIXEL_FEATURE_DIM, pixelFeatures } from './descriptors.js';
import { NEAR_DEFAULTS, cosinePairs, exactGroups, hashPairs, tinyPairs, type NearMethod, type NearPair } from './duplicates.js';
import { findLabelIssues, outOfFoldProbabilities } from './label-errors.js';
import { scanFolder, type FolderScan, type ImageMode } from './scan.js';

/** Features of image files, one vector each (a model's pooled features, say). */
export type FeatureFn = (paths: string[]) => Promise<Float32Array[]>;

export interface DoctorOptions {
  /** Files read at once (default 4). */
  concurrency?: number;
  /** Look at most at this many images, spread over the folder. */
  maxImages?: number;
  /** How near duplicates are found (default 'model' with features, else 'tiny'), or 'off'. */
  near?: NearMethod | 'off';
  /** Cosine at least this ('tiny', 'model'), or pHash bits at most this ('phash'). */
  nearThreshold?: number;
  /** Look for likely label errors (default true; the slowest check). */
  labelErrors?: boolean;
  /** Image features for near duplicates ('model') and the label-error probe; default: pixel features. */
  features?: FeatureFn;
  /** Seeds the probe's folds. */
  seed?: number;
  log?: (line: string) => void;
}

/** One image in a finding: its path under the folder, split and class name. */
export interface DoctorFile {
  path: string;
  split: string;
  label: string;
}

export interface DoctorReport {
  data: string;
  dir: string;
  classes: string[];
  /** Images read per split (bad files included). */
  splits: Record<string, number>;
  images: number;
  corrupt: (DoctorFile & { why: string })[];
  exactDuplicates: DoctorFile[][];
  /** Pairs of near copies (one file of each exact group takes part), most alike first; score: cosine, or pHash bits apart. */
  nearDuplicates: { files: DoctorFile[]; score: number }[];
  /** Exact or near copies found in more than one split. */
  leakage: { kind: 'exact' | 'near'; files: DoctorFile[] }[];
  balance: (Omit<Imbalance, 'empty'> & { empty: string[] })[];
  labelIssues: (DoctorFile & { suggested: string; selfConfidence: number })[];
  sizes: { median: [number, number]; tiny: (DoctorFile & { width: number; height: number })[]; huge: (DoctorFile & { width: number; height: number })[] };
  modes: { counts: Record<ImageMode, number>; mixed: boolean; minority: (DoctorFile & { mode: ImageMode })[] };
  settings: { near: NearMethod | 'off'; nearThreshold: number | null; labelErrors: { features: 'pixels' | 'model'; folds: number } | null; skipped: string[]; maxImages: number | null };
  /** How many findings in all (0: nothing to report). */
  found: number;
  seconds: number;
}

/** Cheap settings for a look before training: no label-error pass, 2,000 images at most. */
export const CHEAP_DOCTOR: DoctorOptions = { labelErrors: false, near: 'tiny', maxImages: 2000 };

const FOLDS = 5;
/** Near pairs kept at most: a folder of look-alikes must not fill memory with N² pairs. */
const MAX_PAIRS = 100_000;

async function modelFeatures(scan: FolderScan, fn: FeatureFn, log: (line: string) => void): Promise<{ rows: Float32Array; dim: number }> {
  const batch = 64;
  let rows: Float32Array | null = null;
  let dim = 0;
  for (let i = 0; i < scan.images.length; i += batch) {
    const part = await fn(scan.images.slice(i, i + batch).map((im) => im.path));
    for (const [k, v] of part.entries()) {
      if (rows === null) {
        dim = v.length;
        rows = new Float32Array(scan.images.length * dim);
      }
      if (v.length !== dim) throw new TlcvError('ARGUMENT', `Expected features of ${dim} numbers for every image but received ${v.length}`);
      rows.set(v, (i + k) * dim);
    }
    if (i % (batch * 16) === 0 && i > 0) log(`doctor: features of ${i} of ${scan.images.length} images`);
  }
  return { rows: rows ?? new Float32Array(0), dim };
}

function unitRows(rows: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let r = 0; r * dim < rows.length; r += 1) {
    let s = 0;
    for (let k = 0; k < dim; k += 1) s += rows[r * dim + k]! ** 2;
    const inv = s > 1e-12 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < dim; k += 1) out[r * dim + k] = rows[r * dim + k]! * inv;
  }
  return out;
}

/**
 * Diagnoses an image folder (all its split folders when the spec names none).
 *
 * @example
 * const report = await diagnose('folder:photos');
 * if (report.leakage.length > 0) console.warn(`${report.leakage.length} images are in more than one split`);
 * const quick = await diagnose('folder:photos:train', CHEAP_DOCTOR); // what fit runs first
 */
export async function diagnose(spec: string, o: DoctorOptions = {}): Promise<DoctorReport> {
  const start = performance.now();
  const log = o.log ?? (() => {});
  const scan = await scanFolder(spec, { ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }), ...(o.maxImages === undefined ? {} : { maxImages: o.maxImages }), log });
  const { images, classes } = scan;
  const file = (i: number): DoctorFile => ({ path: relative(scan.dir, images[i]!.path), split: images[i]!.split, label: classes[images[i]!.label] ?? String(images[i]!.label) });
  const skipped: string[] = [];
  log(`doctor: read ${images.length + scan.bad.length} files (${scan.bad.length} bad)`);

  const exact = exactGroups(images.map((im) => im.sha256));
  // Near search over one image per distinct content: exact copies join their group afterwards.
  const rep = new Map<string, number>();
  const reps: number[] = [];
  images.forEach((im, i) => {
    if (!rep.has(im.sha256)) {
      rep.set(im.sha256, i);
      reps.push(i);
    }
  });
  const feats = o.features !== undefined && images.length > 0 ? await modelFeatures(scan, o.features, log) : null;
  const near = o.near ?? (feats !== null ? 'model' : 'tiny');
  if (near === 'model' && feats === null) throw new TlcvError('ARGUMENT', 'near duplicates by model features need a model (--model)');
  const threshold = near === 'off' ? null : (o.nearThreshold ?? NEAR_DEFAULTS[near]);
  let pairs: NearPair[] = [];
  if (near === 'phash') pairs = hashPairs(reps.map((i) => images[i]!.descriptors.phash), threshold!, MAX_PAIRS);
  else if (near === 'tiny') pairs = tinyPairs(reps.map((i) => images[i]!.descriptors), threshold!, MAX_PAIRS);
  else if (near === 'model') {
    const dim = feats!.dim;
    const rows = new Float32Array(reps.length * dim);
    reps.forEach((i, r) => rows.set(feats!.rows.subarray(i * dim, (i + 1) * dim), r * dim));
    pairs = cosinePairs(unitRows(rows, dim), reps.length, dim, threshold!, MAX_PAIRS);
  }
  if (pairs.length >= MAX_PAIRS) skipped.push(`near duplicates: stopped at the first ${MAX_PAIRS} pairs (raise --near-threshold)`);
  // Pairs, not their connected groups: on digits, chains of look-alike 1s would join into one large group.
  const nearPairs = pairs
    .map((p) => ({ a: reps[p.a]!, b: reps[p.b]!, score: p.score }))
    .sort((x, y) => (near === 'phash' ? x.score - y.score : y.score - x.score));
  const leakage: DoctorReport['leakage'] = [];
  for (const g of exact) if (new Set(g.map((i) => images[i]!.split)).size > 1) leakage.push({ kind: 'exact', files: g.map(file) });
  for (const p of nearPairs) if (images[p.a]!.split !== images[p.b]!.split) leakage.push({ kind: 'near', files: [file(p.a), file(p.b)] });

  let labelIssues: DoctorReport['labelIssues'] = [];
  let labelsRan = false;
  const present = new Set(images.map((im) => im.label));
  const wantLabels = o.labelErrors ?? true;
  if (wantLabels && (present.size < 2 || images.length < 4 * FOLDS)) {
    skipped.push(`label errors: need 2 or more classes and ${4 * FOLDS} or more images (found ${present.size} classes, ${images.length} images)`);
  } else if (wantLabels) {
    log(`doctor: out-of-fold probe over ${images.length} images (${FOLDS} folds)`);
    const labels = Int32Array.from(images, (im) => im.label);
    const dim = feats?.dim ?? PIXEL_FEATURE_DIM;
    const rows = feats?.rows ?? new Float32Array(images.length * dim);
    if (feats === null) images.forEach((im, i) => pixelFeatures(im.descriptors, rows, i * dim));
    const probs = outOfFoldProbabilities(rows, dim, labels, classes.length, { folds: FOLDS, seed: o.seed ?? 0 });
    labelsRan = true;
    labelIssues = findLabelIssues(labels, probs, classes.length).map((x) => ({ ...file(x.index), suggested: classes[x.suggested]!, selfConfidence: x.selfConfidence }));
  }

  const balance = classBalance(images, scan.splits, classes.length).map((b) => ({ ...b, empty: b.empty.map((c) => classes[c]!) }));
  const sizes = sizeOutliers(images);
  const modes: ModeReport = colourModes(images);
  const sized = (i: number): DoctorFile & { width: number; height: number } => ({ ...file(i), width: images[i]!.width, height: images[i]!.height });
  const report: DoctorReport = {
    data: spec,
    dir: scan.dir,
    classes,
    splits: Object.fromEntries(scan.splits.map((s) => [s, images.filter((im) => im.split === s).length + scan.bad.filter((b) => b.split === s).length])),
    images: images.length + scan.bad.length,
    corrupt: scan.bad.map((b) => ({ path: relative(scan.dir, b.path), split: b.split, label: classes[b.label] ?? String(b.label), why: b.why })),
    exactDuplicates: exact.map((g) => g.map(file)),
    nearDuplicates: nearPairs.map((p) => ({ files: [file(p.a), file(p.b)], score: p.score })),
    leakage,
    balance,
    labelIssues,
    sizes: { median: sizes.median, tiny: sizes.tiny.map(sized), huge: sizes.huge.map(sized) },
    modes: { counts: modes.counts, mixed: modes.mixed, minority: modes.minority.map((i) => ({ ...file(i), mode: images[i]!.mode })) },
    settings: { near, nearThreshold: threshold, labelErrors: labelsRan ? { features: feats ? 'model' : 'pixels', folds: FOLDS } : null, skipped, maxImages: o.maxImages ?? null },
    found: 0,
    seconds: 0,
  };
  report.found =
    report.corrupt.length +
    report.exactDuplicates.length +
    report.nearDuplicates.length +
    report.leakage.length +
    report.balance.filter((b) => b.imbalanced).length +
    report.labelIssues.length +
    report.sizes.tiny.length +
    report.sizes.huge.length +
    (report.modes.mixed ? 1 : 0);
  report.seconds = (performance.now() - start) / 1000;
  return report;
}
