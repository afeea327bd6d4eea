/**
 * `fit`: the best model a wall-time budget buys on this machine. It measures each candidate
 * backbone's forward time, then climbs the ladder (ladder.ts): training-free heads (ncm, knn,
 * probe) on each pretrained backbone, feature extraction, fine-tuning with a head stage, and a
 * longer fine-tuning that fills the time left (from scratch for a backbone without pretrained
 * weights); each rung only when the cost model predicts it fits. Every rung is scored on the
 * same validation images: a stratified hold-out, or stratified k-fold on small data. The best
 * is written as an ordinary model folder, with fit.json and report.md holding the leaderboard.
 *
 * A function here rather than a method of Model: it tries several models and returns one, and
 * Model keeps one module (a method would have to replace its own module by another backbone's).
 */
import { classCounts, loadDataset } from '../../data/index.js';
import { chooseBatchSize, chooseEpochs, type Callback, type LearnerView } from '../../train/index.js';
import { load, type Model } from '../model.js';
import type { DataChoices } from '../data-prep.js';
import { validationData, validationLogits, type FitValidation } from './validation.js';
import { checkData, calibrateKept } from './fit-data-check.js';
import { writeFitFolder, type FitOutcome } from './fit-report.js';

export type { FitValidation, FitOutcome };
import { lrFindRun } from '../lr-find-run.js';
import { chooseCandidates, measureCandidate, type FitCandidate } from './candidates.js';
import { CostModel, type CostFamily, type FitDataSize } from './cost.js';
import { climb, type LeaderboardEntry, type Rung, type RungContext, type RungResult } from './ladder.js';

/** Fewer images than this in the smallest class: k-fold rather than one hold-out. */
export const KFOLD_BELOW_PER_CLASS = 20;
/** Folds on small data: every image validates once; 5 would cost 5/3 as much of the budget. */
export const KFOLDS = 3;
/** The hold-out fraction otherwise. */
export const HOLDOUT = 0.2;
/** Steps of the learning-rate sweep before a backbone's first fine-tuning (fastai's default). */
export const LR_FIND_STEPS = 100;
/** A refit on every image takes about this much of one fold's time (k/(k-1) of its images, and a margin). */
export const REFIT_SHARE = 1.75;
/** With a hold-out, a refit on every image takes about this much of the rung's time (1/(1-HOLDOUT), and a margin). */
export const HOLDOUT_REFIT_SHARE = 1.4;
/** Of the budget, kept for writing the model and report (at least 2 s). */
export const RESERVE_FRACTION = 0.05;

export interface FitOptions {
  /** 'auto' (default), a model folder, a weights file (with `arch`) or a zoo name. */
  model?: string;
  arch?: string;
  /** Wall time in seconds for the whole fit. */
  budget: number;
  /** The model folder to write. */
  out: string;
  seed?: number;
  choices?: DataChoices;
  maxMemory?: number;
  /** Seconds on a monotonic clock (default performance.now()/1000). */
  clock?: () => number;
  /** The clock's value when the budget began (default: when fit is called; the CLI gives its process's start). */
  start?: number;
  /** Aborted: no further rung starts, and a training rung stops at its epoch's end; the best so far is written. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** Stops a training rung at the end of the epoch in which its deadline passes or the user interrupts. */
class FitDeadline implements Callback {
  readonly order = 5;
  constructor(
    readonly deadline: number,
    readonly clock: () => number,
    readonly signal?: AbortSignal,
  ) {}
  afterBatch(learn: LearnerView): void {
    if (this.signal?.aborted === true) learn.requestStop('fit: interrupted');
    else if (this.clock() >= this.deadline) learn.requestStop('fit: the budget');
  }
}

/**
 * Fits the best model `budget` seconds buy (see the file comment) and writes it to `out`.
 *
 * @example
 * const r = await fit('folder:photos', { budget: 300, out: 'runs/best' });
 * console.log(r.kept?.strategy, r.kept?.score);
 */
export async function fit(data: string, o: FitOptions): Promise<FitOutcome> {
  const clock = o.clock ?? ((): number => performance.now() / 1000);
  const start = o.start ?? clock();
  const log = o.log ?? ((): void => undefined);
  const seed = o.seed ?? 0;
  const { candidates, why } = chooseCandidates(o.model ?? 'auto', o.arch === undefined ? {} : { arch: o.arch });
  log(`fit: candidates: ${why}`);
  const raw = await loadDataset(data, { stream: true, cacheImages: 'off', ...(o.choices?.onBadImage ? { onBadImage: o.choices.onBadImage } : {}) });
  const smallest = Math.min(...classCounts(raw));
  const kfold = smallest < KFOLD_BELOW_PER_CLASS;
  const folds = kfold ? KFOLDS : 1;
  const validation: FitValidation = kfold ? { kind: 'kfold', val: `fold:0/${KFOLDS}`, seed, folds } : { kind: 'holdout', val: String(HOLDOUT), seed, folds };
  const size: FitDataSize = kfold ? { train: Math.round((raw.n * (KFOLDS - 1)) / KFOLDS), val: Math.round(raw.n / KFOLDS), folds } : { train: Math.round(raw.n * (1 - HOLDOUT)), val: Math.round(raw.n * HOLDOUT), folds };
  log(
    kfold
      ? `fit: ${raw.n} images, ${smallest} in the smallest class (under ${KFOLD_BELOW_PER_CLASS}): ${KFOLDS}-fold stratified validation, each rung scored on every image`
      : `fit: ${raw.n} images: a stratified ${HOLDOUT * 100}% validation hold-out`,
  );
  await checkData(data, log);
  const cost = new CostModel();
  for (const c of candidates) cost.setForward(c.backbone, await measureCandidate(c, raw, o.choices));
  const epochs = chooseEpochs({ trainImages: size.train, batchSize: chooseBatchSize({ trainImages: size.train }).batchSize });
  const ctx: RungEnv = { data, o, seed, validation, clock, cost, size, epochs };
  const rungs = ladderFor(candidates, ctx);
  const budget = o.budget;
  // Kept back: writing the model, and after the choice two passes over the validation images (with and without TTA).
  const reserve = Math.max(budget * RESERVE_FRACTION, ...candidates.map((c) => 1 + 2 * cost.head(c.backbone, { train: 0, val: size.val, folds: 1 })));
  // With k-fold, the best recipe is trained again on every image at the end: time for that is kept back.
  const refitSeconds = (e: LeaderboardEntry | null): number => (kfold && e !== null ? (e.seconds / folds) * REFIT_SHARE : 0);
  const interrupted = (): boolean => o.signal?.aborted === true;
  // A later, costlier rung must beat the best by more than one validation image: less is noise on
  // small data. k-fold scores every image (its folds' validation sets together), so one is 1/n.
  const { board, best } = await climb(rungs, { budget, reserve, reserveFor: refitSeconds, margin: 1 / (size.val * folds), clock, start, release: (m) => m.dispose(), log, interrupted });
  const kept = best?.entry ?? null;
  let model = best?.result.model ?? null;
  const outcome: FitOutcome = { model, kept, board, why, validation, seconds: 0, interrupted: interrupted(), tta: null, refit: false, calibration: null };
  if (model !== null && !interrupted()) {
    // Two passes over the validation images, as the heads' rungs measured them on this machine.
    const left = start + budget - clock() - refitSeconds(kept);
    const needs = 2 * cost.head(kept!.backbone, { train: 0, val: size.val, folds: 1 }) + 1;
    if (needs < left) outcome.tta = await afterSelection(model, data, validation, log);
    else log(`fit: test-time augmentation not tried: its check would take about ${needs.toFixed(1)}s, ${left.toFixed(1)}s left`);
  }
  // Calibrated on the split the kept model did not train on, before any refit: as scikit-learn's
  // CalibratedClassifierCV(ensemble=False), the refit model keeps what was fitted there.
  if (model !== null && !interrupted()) {
    const left = start + budget - clock() - refitSeconds(kept);
    const needs = cost.head(kept!.backbone, { train: 0, val: size.val, folds: 1 }) + 1;
    outcome.calibration = await calibrateKept(model, { fits: needs < left, needs, left }, () => validationData(model!, data, validation), validationLogits, log);
  }
  // k-fold: time was kept for it. A hold-out: when the time left allows (a fifth more images is
  // worth most on small data, where a refit is cheap), never at the cost of a rung.
  const refitNeeds = kfold ? refitSeconds(kept) : (kept?.seconds ?? 0) * HOLDOUT_REFIT_SHARE;
  if (model !== null && best?.result.refit && !interrupted()) {
    const end = start + budget - reserve;
    const from = kfold ? "fold 0's" : 'the one trained without the hold-out';
    if (refitNeeds <= end - clock()) {
      const all = await best.result.refit(end);
      all.tta = model.tta;
      all.calibration = model.calibration;
      model.dispose();
      model = all;
      outcome.model = all;
      outcome.refit = true;
      log(`fit: ${kept!.strategy} on ${kept!.backbone} trained again on all ${raw.n} images with the recipe validation chose (the kept model is this one${outcome.calibration === null ? '' : ', with the calibration fitted before'})`);
    } else log(`fit: not trained again on every image (about ${refitNeeds.toFixed(1)}s, ${(end - clock()).toFixed(1)}s left): the kept model is ${from}`);
  }
  outcome.seconds = clock() - start;
  writeFitFolder(o.out, data, outcome, budget, HOLDOUT);
  return outcome;
}

/**
 * What follows the choice, on the kept model's validation split (fold 0 with k-fold): test-time
 * augmentation where it validates better. Issue 23 plugs in here: the data check's report, and
 * temperature scaling plus an "unknown" threshold fitted on validationLogits(model, val).
 */
async function afterSelection(model: Model, data: string, validation: FitValidation, log: (line: string) => void): Promise<FitOutcome['tta']> {
  // Mirroring is a view the model saw in training only when its record flips (photos, not digits).
  if (model.preprocess?.train.hflip !== true) {
    log('fit: test-time augmentation not tried: the model was not trained on mirrored images');
    return null;
  }
  const val = await validationData(model, data, validation);
  const without = (await model.evaluate(val, { tta: false })).accuracy;
  const flipped = (await model.evaluate(val, { tta: true })).accuracy;
  // By more than one validation image, as for the learning rate.
  const used = flipped - without > 1 / val.n;
  model.tta = used;
  log(`fit: test-time augmentation (mirror): ${(flipped * 100).toFixed(1)}% against ${(without * 100).toFixed(1)}% on the kept model's validation split: ${used ? 'used' : 'not used'}`);
  return { without, with: flipped, used };
}

interface RungEnv {
  data: string;
  o: FitOptions;
  seed: number;
  validation: FitValidation;
  clock: () => number;
  cost: CostModel;
  size: FitDataSize;
  /** Epochs of a feature-extraction or fine-tuning rung (Part A's rule for the data's size). */
  epochs: number;
}

/** Runs `train` once per fold, scores the mean of the folds' validation accuracies, keeps fold 0's model. */
/** A training rung's own part of the time it is given: with k-fold, the rest is its refit on every image. */
function ownPart(env: RungEnv, ctx: RungContext): RungContext {
  const folds = env.validation.folds;
  const share = env.validation.kind === 'kfold' ? folds / (folds + REFIT_SHARE) : 1;
  return { seconds: ctx.seconds * share, deadline: ctx.deadline - ctx.seconds * (1 - share) };
}

async function overFolds(env: RungEnv, whole: RungContext | null, train: (val: string, deadline: number | null) => Promise<{ model: Model; accuracy: number }>, note: string): Promise<RungResult<Model>> {
  const ctx = whole === null ? null : ownPart(env, whole);
  const scores: number[] = [];
  let kept: Model | null = null;
  try {
    for (let i = 0; i < env.validation.folds; i += 1) {
      if (i > 0 && env.o.signal?.aborted === true) break;
      // Each fold gets its share of what is left, so a slow first fold does not eat the last's time.
      const deadline = ctx === null ? null : env.clock() + (ctx.deadline - env.clock()) / (env.validation.folds - i);
      const r = await train(env.validation.kind === 'kfold' ? `fold:${i}/${env.validation.folds}` : env.validation.val, deadline);
      scores.push(r.accuracy);
      if (kept === null) kept = r.model;
      else r.model.dispose();
    }
  } catch (e) {
    kept?.dispose();
    throw e;
  }
  const score = scores.reduce((a, b) => a + b, 0) / scores.length;
  const folds = env.validation.kind === 'kfold' ? `; ${scores.length} folds: ${scores.map((s) => (s * 100).toFixed(1)).join(', ')}%` : '';
  return { score, model: kept!, note: `${note}${folds}`, refit: async (deadline) => (await train('none', deadline)).model };
}

/** The rungs for the candidates, in the order they are climbed. */
function ladderFor(candidates: FitCandidate[], env: RungEnv): Rung<Model>[] {
  const { o, cost, size } = env;
  const common = (deadline: number | null) => ({
    options: { seed: env.seed },
    quiet: true,
    ...(o.choices ? { choices: o.choices } : {}),
    ...(o.maxMemory === undefined ? {} : { maxMemory: o.maxMemory }),
    ...(deadline === null ? {} : { callbacks: [new FitDeadline(deadline, env.clock, o.signal)] }),
  });
  // libtorch: rungs evaluate once each, where timing onnxruntime against it would cost more than it saves.
  const open = (c: FitCandidate): Promise<Model> => load(c.source, { engine: 'libtorch', precision: 'fp32', channelsLast: false, ...(c.arch === undefined ? {} : { arch: c.arch }), ...(c.kind === 'scratch' ? { pretrained: false } : {}) });
  const trained = async (c: FitCandidate, val: string, run: (m: Model) => Promise<{ evaluation: { accuracy: number } | null }>): Promise<{ model: Model; accuracy: number }> => {
    const m = await open(c);
    try {
      // A run without an out folder reports no evaluation for a training mode: scored here, on the same split.
      const r = await run(m);
      if (val === 'none') return { model: m, accuracy: NaN };
      const accuracy = r.evaluation?.accuracy ?? (await m.evaluate(await validationData(m, env.data, { val, seed: env.seed }), { tta: false })).accuracy;
      return { model: m, accuracy };
    } catch (e) {
      m.dispose();
      throw e;
    }
  };
  const learn = (backbone: string, family: CostFamily) => (seconds: number, predicted: number) => cost.observe(backbone, family, seconds, predicted);
  const rungs: Rung<Model>[] = [];
  const pretrained = candidates.filter((c) => c.kind === 'pretrained');
  for (const c of pretrained) {
    for (const mode of ['ncm', 'knn', 'probe'] as const) {
      rungs.push({
        strategy: mode,
        backbone: c.backbone,
        predict: () => cost.head(c.backbone, size, mode === 'probe' ? 'probe' : 'head'),
        measured: learn(c.backbone, mode === 'probe' ? 'probe' : 'head'),
        run: () => overFolds(env, null, (val) => trained(c, val, (m) => m.transfer(env.data, { mode, val, ...common(null), options: { seed: env.seed, augment: 'none' } })), `${mode} head`),
      });
    }
  }
  // A training rung asks for its least useful length, and takes what fits up to its full length.
  const sized = (kind: 'frozen' | 'train', backbone: string, ctx: RungContext, least: number, most: number): number =>
    Math.max(least, Math.min(most, cost.epochsWithin(kind, backbone, size, ownPart(env, ctx).seconds)));
  const fe = env.epochs;
  const leastFe = Math.max(1, Math.ceil(fe / 4));
  const headEpochs = Math.max(1, Math.round(env.epochs / 5));
  // The head stage's epochs count in the cost like the others (an upper bound: the body is frozen then).
  const extra = (c: FitCandidate): number => (c.kind === 'scratch' ? 0 : headEpochs);
  const least = Math.max(1, Math.ceil(env.epochs / 4));
  for (const c of pretrained) {
    rungs.push({
      strategy: 'feature-extraction',
      backbone: c.backbone,
      predict: () => cost.featureExtraction(c.backbone, size, leastFe),
      measured: learn(c.backbone, 'frozen'),
      // Fine-tuning usually wins where the budget allows it; feature extraction is the fallback.
      makesRoomFor: () => ({ strategy: 'fine-tune', seconds: cost.training(c.backbone, size, least + extra(c)) }),
      run: (ctx) => {
        const epochs = sized('frozen', c.backbone, ctx, leastFe, fe);
        return overFolds(env, ctx, (val, deadline) => trained(c, val, (m) => m.transfer(env.data, { mode: 'feature-extraction', val, ...common(deadline), options: { seed: env.seed, epochs } })), `${epochs} epochs`);
      },
    });
  }
  // fastai's lr_find valley, swept once a backbone on the first split's training images.
  const lrs = new Map<string, number | null>();
  const batch = chooseBatchSize({ trainImages: size.train }).batchSize;
  const sweepCost = (c: FitCandidate): number => (lrs.has(c.backbone) ? 0 : cost.lrFind(c.backbone, size, LR_FIND_STEPS, batch));
  const lrFor = async (c: FitCandidate): Promise<number | null> => {
    if (!lrs.has(c.backbone)) {
      try {
        const r = await lrFindRun(c.source, env.data, {
          mode: c.kind === 'scratch' ? 'scratch' : 'fine-tune',
          ...(c.arch === undefined ? {} : { arch: c.arch }),
          val: env.validation.val,
          options: { seed: env.seed },
          iterations: LR_FIND_STEPS,
          ...(o.choices ? { choices: o.choices } : {}),
          ...(o.maxMemory === undefined ? {} : { maxMemory: o.maxMemory }),
        });
        lrs.set(c.backbone, r.suggestion);
        o.log?.(`fit: lr-find on ${c.backbone}: ${r.suggestion.toExponential(1)} (valley of ${r.lrs.length} steps at batch ${r.batchSize}, ${r.seconds.toFixed(1)}s)`);
      } catch (e) {
        lrs.set(c.backbone, null);
        o.log?.(`fit: lr-find on ${c.backbone} failed (${e instanceof Error ? e.message : String(e)}): the default learning rate`);
      }
    }
    return lrs.get(c.backbone) ?? null;
  };
  const fineTune = async (c: FitCandidate, epochs: number, ctx: RungContext, lr: number | null): Promise<RungResult<Model>> => {
    const options = { seed: env.seed, epochs, ...(lr === null ? {} : { lr }) };
    const rate = lr === null ? 'the default learning rate' : `learning rate ${lr.toExponential(1)} (lr-find)`;
    return overFolds(
      env,
      ctx,
      (val, deadline) =>
        trained(c, val, (m) =>
          c.kind === 'scratch' ? m.fit(env.data, { val, ...common(deadline), options }) : m.transfer(env.data, { mode: 'fine-tune', val, headEpochs, ...common(deadline), options }),
        ),
      c.kind === 'scratch' ? `${epochs} epochs from seeded weights, ${rate}` : `${headEpochs} epoch(s) on the head, then ${epochs} with every layer, ${rate}`,
    );
  };
  const first = (c: FitCandidate, ctx: RungContext, lr: number | null): Promise<RungResult<Model>> =>
    fineTune(c, sized('train', c.backbone, ctx, least + extra(c), env.epochs + extra(c)) - extra(c), ctx, lr);
  // Validation decides the rate: the default, then lr-find's; the longer training takes the better.
  const scored = new Map<string, { plain?: number; swept?: number }>();
  const note = (c: FitCandidate, key: 'plain' | 'swept', r: RungResult<Model>): RungResult<Model> => {
    scored.set(c.backbone, { ...scored.get(c.backbone), [key]: r.score });
    return r;
  };
  const better = (c: FitCandidate): number | null => {
    const s = scored.get(c.backbone);
    // By more than one validation image: a difference of one image on small data is noise.
    return s?.swept !== undefined && (s.plain === undefined || s.swept - s.plain > 1 / size.val) ? (lrs.get(c.backbone) ?? null) : null;
  };
  const name = (c: FitCandidate): string => (c.kind === 'scratch' ? 'scratch' : 'fine-tune');
  for (const c of candidates) {
    rungs.push({
      strategy: name(c),
      backbone: c.backbone,
      predict: () => cost.training(c.backbone, size, least + extra(c)),
      measured: learn(c.backbone, 'train'),
      run: async (ctx) => note(c, 'plain', await first(c, ctx, null)),
    });
    rungs.push({
      strategy: `${name(c)}, lr-find`,
      backbone: c.backbone,
      predict: () => sweepCost(c) + cost.training(c.backbone, size, least + extra(c)),
      measured: learn(c.backbone, 'train'),
      run: async (ctx) => {
        const t0 = env.clock();
        const lr = await lrFor(c);
        if (lr === null) throw new Error('lr-find gave no rate');
        const left = { seconds: ctx.seconds - (env.clock() - t0), deadline: ctx.deadline };
        return note(c, 'swept', await first(c, left, lr));
      },
    });
  }
  // Longer training fills the time left: at least twice the first's epochs, at most four times.
  for (const c of candidates) {
    rungs.push({
      strategy: `${name(c)}, longer`,
      backbone: c.backbone,
      predict: () => cost.training(c.backbone, size, 2 * env.epochs + extra(c)),
      measured: learn(c.backbone, 'train'),
      run: (ctx) => fineTune(c, sized('train', c.backbone, ctx, 2 * env.epochs + extra(c), 4 * env.epochs + extra(c)) - extra(c), ctx, better(c)),
    });
  }
  return rungs;
}
