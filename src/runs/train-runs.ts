/**
 * The runs that train: a model from scratch (what `tlcv pretrain` and `Model.fit` on an
 * architecture do), a transfer that trains (feature extraction, fine-tuning) and a training-free
 * head (ncm, knn, probe). Each prepares model and data with one preprocessing record, trains
 * through the Learner, and (given a folder) checkpoints and writes the model folder there with
 * the record it trained with.
 */
import { TlcvError } from '../errors.js';
import { finishRunFolder } from '../io/run-folder.js';
import type { ProcessGroup } from '../distributed/index.js';
import type { PreprocessConfig } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import type { TransferMode } from '../transfer/strategy.js';
import type { HeadMode } from '../transfer/heads/index.js';
import { DataParallel, Learner, resolveTrainOptions, type Callback, type TrainOptions } from '../train/index.js';
import { prepareScratch, prepareTransfer, loadForModel, type DataChoices, type Prepared } from './data-prep.js';
import { folderRunCallbacks } from './run-callbacks.js';
import { saveModelFolder } from './model-folder.js';
import { writeResultFolder } from './result-folder.js';
import { resolveRunSizes } from './run-sizes.js';

/** The options with batch size and epochs chosen where the caller left them unset (see run-sizes.ts). */
async function sized<R extends TrainRunOptions>(p: Prepared, r: R, o: { strategy?: { mode: TransferMode; unfreeze: number | 'all' }; headEpochs?: number } = {}): Promise<R> {
  const log = r.log ?? r.choices?.log;
  const d = await resolveRunSizes({
    model: p.model,
    train: p.train,
    val: p.val,
    options: r.options ?? {},
    ...o,
    ...(r.maxMemory === undefined ? {} : { maxMemory: r.maxMemory }),
    ...(r.group ? { group: r.group } : {}),
    ...(r.out?.resume ? { resumeFrom: r.out.dir } : {}),
    ...(log ? { log } : {}),
  });
  return { ...r, options: d.options };
}
import { Calibrate, calibrateOnValidation, calibrationInfo, type UnknownRequest } from './calibration-run.js';
import type { CalibrationRecord } from '../metrics/index.js';

/** Where a run lives on disk: checkpoints while it trains, the model folder at its end. */
export interface RunFolder {
  dir: string;
  /** Continue from the checkpoint in `dir`. */
  resume?: boolean;
  /** Replace the model or run `dir` holds. */
  overwrite?: boolean;
  /** Seconds between checkpoints (default 60; 0: every epoch). */
  checkpointEvery?: number;
  /** Keep the checkpoint when the run finishes (default false: the folder keeps the model, not its training state). */
  keepCheckpoint?: boolean;
}

export interface TrainRunOptions {
  /** Training options over the defaults (TRAIN_DEFAULTS). */
  options?: Partial<TrainOptions>;
  /** Validation: a fraction held out of the data (default '0.1'), 'none', or a data spec. */
  val?: string;
  /** How images become inputs (input size, crop, kernel) and what to do with bad files. */
  choices?: DataChoices;
  /** Train into this folder (checkpoints, report, the model at the end); without one, in memory only. */
  out?: RunFolder;
  /** The group of a data-parallel run (rank 0 alone writes). */
  group?: ProcessGroup | null;
  /** No progress output. */
  quiet?: boolean;
  /** More callbacks for the fit. */
  callbacks?: Callback[];
  /** Peak RSS budget in bytes for choosing the batch when `options.batchSize` is unset (default 2.5 GiB, at most half the RAM). */
  maxMemory?: number;
  log?: (line: string) => void;
  /**
   * `--unknown auto`: fit temperature scaling and the unknown threshold on the validation split
   * once trained, and keep them in the model folder (see calibrate). Absent: neither.
   */
  unknown?: UnknownRequest;
}

/** What a run ended with: the trained module and its record, and the score it reported. */
export interface RunOutcome {
  module: ClassifierModel;
  classes: string[];
  preprocess: PreprocessConfig;
  /** The evaluation the report shows: on the validation data, else the training data. */
  evaluation: EvaluationResult | null;
  evaluatedOn: 'validation' | 'training' | 'support-set';
  /** Seconds of the fit alone (training, or fitting a head). */
  fitSeconds: number;
  /** One line on the run: what was frozen, or the head that was fitted. */
  summary: string;
  /** The temperature and unknown threshold fitted on the validation split (`unknown` asked), else null. */
  calibration: CalibrationRecord | null;
}

const isMainOf = (r: TrainRunOptions): boolean => r.group?.isMain ?? true;

function learnerFor(p: Prepared, r: TrainRunOptions, title: string, provenance: Record<string, unknown>): { learn: Learner; report: ReturnType<typeof folderRunCallbacks>['report'] | null; calibrate: Calibrate | null } {
  const main = isMainOf(r);
  const device = r.options?.device === undefined ? {} : { device: r.options.device };
  const calibrate = r.unknown === undefined ? null : new Calibrate(p.val, { ...r.unknown, ...device });
  const info = calibrate === null ? {} : { info: () => calibrationInfo(calibrate.record) };
  const run = r.out === undefined ? null : folderRunCallbacks({ out: r.out.dir, ...r.out, title, provenance, evalSet: p.val ?? p.train, progress: { quiet: r.quiet === true || !main }, ...info });
  const callbacks = [...(run?.callbacks ?? []), ...(r.callbacks ?? []), ...(r.group ? [new DataParallel(r.group)] : []), ...(calibrate ? [calibrate] : [])];
  const quiet = run !== null || r.quiet === true || !main;
  // Info lines reach the caller once: through the Progress callback that shows them, else through log.
  const shown = r.quiet !== true && main;
  const learn = new Learner({ model: p.model, train: p.train, val: p.val, options: r.options ?? {}, callbacks, quiet, ...(r.log && !shown ? { log: r.log } : {}) });
  return { learn, report: run?.report ?? null, calibrate };
}

/** Refuses `--unknown auto` without validation data before any training. */
function checkUnknown(p: Prepared, r: { unknown?: UnknownRequest }): void {
  if (r.unknown !== undefined && p.val === null) {
    p.model.dispose();
    throw new TlcvError('ARGUMENT', '--unknown auto fits its temperature and threshold on the validation split: give --val a fraction or a data spec, not none');
  }
}

/** The calibration a head run asked for, fitted on its validation split (see describeCalibration for a line on it). */
async function calibration(p: Prepared, r: { unknown?: UnknownRequest; options?: Partial<TrainOptions> }): Promise<CalibrationRecord | null> {
  if (r.unknown === undefined) return null;
  return calibrateOnValidation(p.model, p.val, { ...r.unknown, ...(r.options?.device === undefined ? {} : { device: r.options.device }) });
}

/** What the Calibrate callback fitted at the end of the fit (null when not asked). */
function fitted(c: Calibrate | null): CalibrationRecord | null {
  if (c === null) return null;
  if (c.record === null) throw new TlcvError('MODEL', 'internal: the fit ended without its calibration');
  return c.record;
}

function save(p: Prepared, r: TrainRunOptions, learn: Learner, provenance: Record<string, unknown>, cal: CalibrationRecord | null): void {
  if (r.out === undefined || !isMainOf(r)) return;
  saveModelFolder(r.out.dir, p.model, { classes: p.train.classes, preprocess: p.preprocess, calibration: cal, provenance: { ...provenance, options: learn.options, cachedPrefix: learn.startStage > 0 } });
  finishRunFolder(r.out.dir, r.out.keepCheckpoint === true);
}

function outcome(p: Prepared, learn: Learner, report: { evaluation: EvaluationResult | null } | null, fitSeconds: number, summary: string, cal: CalibrationRecord | null): RunOutcome {
  return { module: p.model, classes: p.train.classes, preprocess: p.preprocess, evaluation: report?.evaluation ?? null, evaluatedOn: p.val ? 'validation' : 'training', fitSeconds, summary, calibration: cal };
}

/**
 * Trains a new model of architecture `arch` on `data` from seeded initial weights.
 *
 * @example
 * const r = await pretrainRun({ name: 'seed-cnn' }, 'fashion-mnist:train', { options: { epochs: 2 }, out: { dir: 'runs/source' } });
 */
export async function pretrainRun(arch: { name: string; alpha?: number }, data: string, r: TrainRunOptions): Promise<RunOutcome> {
  const seed = resolveTrainOptions(r.options ?? {}).seed;
  const p = await prepareScratch({ data, model: arch.name, ...(arch.alpha === undefined ? {} : { alpha: arch.alpha }), val: r.val ?? '0.1', seed, ...r.choices, ...(r.log ? { log: r.log } : {}) });
  checkUnknown(p, r);
  try {
    const provenance = { command: 'pretrain', data, mode: 'scratch' };
    const { learn, report, calibrate } = learnerFor(p, await sized(p, r), `pretrain ${arch.name} on ${data}`, provenance);
    const t0 = performance.now();
    await learn.fit();
    const cal = fitted(calibrate);
    save(p, r, learn, provenance, cal);
    return outcome(p, learn, report, (performance.now() - t0) / 1000, learn.summary, cal);
  } catch (e) {
    p.model.dispose();
    throw e;
  }
}

export interface TransferRunOptions extends TrainRunOptions {
  mode: Exclude<TransferMode, 'scratch' | HeadMode>;
  /** fine-tune: layer groups before the head to train (default all). */
  unfreeze?: number | 'all';
  /** fine-tune: epochs on the new head alone first (fastai's fine_tune). */
  headEpochs?: number;
  /** Names the source in the report and the folder's provenance. */
  from: string;
  /** Describes the source in the log line that starts the run. */
  description?: string;
  /** Keep the source's classifier when the data's classes are these (the model's): train on rather than transfer. */
  keepHeadFor?: string[];
  /** The command named in the folder's provenance (default transfer). */
  command?: string;
}

/**
 * Feature extraction or fine-tuning of `source` on `data`: a new classifier for the data's
 * classes, the record carried forward from the source, trained through the Learner.
 */
export async function transferRun(source: { module: ClassifierModel; preprocess: PreprocessConfig | null }, data: string, r: TransferRunOptions): Promise<RunOutcome> {
  const seed = resolveTrainOptions(r.options ?? {}).seed;
  const p = await prepareTransfer(source, { data, val: r.val ?? '0.1', seed, ...r.choices, ...(r.keepHeadFor ? { keepHeadFor: r.keepHeadFor } : {}), ...(r.log ? { log: r.log } : {}) });
  checkUnknown(p, r);
  const unfreeze = r.mode === 'feature-extraction' ? 0 : (r.unfreeze ?? 'all');
  const provenance = { command: r.command ?? 'transfer', from: r.from, data, mode: r.mode, unfreeze };
  const run = await sized(p, r, { strategy: { mode: r.mode, unfreeze }, headEpochs: r.headEpochs ?? 0 });
  const { learn, report, calibrate } = learnerFor(p, run, `${r.mode} from ${r.from} to ${data}`, provenance);
  const s = learn.setStrategy(r.mode, unfreeze);
  const summary = `${r.mode}: ${s.frozenStages} of ${p.model.stages().length} layer groups frozen, ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters trainable`;
  if (isMainOf(r)) r.log?.(`source: ${r.description ?? r.from}; ${summary}`);
  const t0 = performance.now();
  if (r.mode === 'fine-tune') await learn.fineTune({ headEpochs: r.headEpochs ?? 0, unfreeze });
  else await learn.featureExtract();
  const cal = fitted(calibrate);
  save(p, run, learn, { ...provenance, frozenStages: s.frozenStages }, cal);
  return outcome(p, learn, report, (performance.now() - t0) / 1000, summary, cal);
}

export interface HeadRunOptions extends Omit<TrainRunOptions, 'group' | 'callbacks'> {
  mode: HeadMode;
  /** knn: neighbours that vote (default 5). */
  k?: number;
  /** ncm, knn: source-domain data whose mean feature they centre on (SimpleShot). */
  center?: string;
  from: string;
  description?: string;
}

/**
 * A training-free head (ncm, knn, probe) fitted on the source's features of `data` (the support
 * set), scored on the validation data (or the support set), written with the record its
 * features were computed with.
 */
export async function headRun(source: { module: ClassifierModel; preprocess: PreprocessConfig | null }, data: string, r: HeadRunOptions): Promise<RunOutcome> {
  const options = resolveTrainOptions({ augment: 'none', ...(r.options ?? {}) });
  const log = r.log ?? ((): void => undefined);
  const how = { ...(r.choices?.onBadImage ? { onBadImage: r.choices.onBadImage } : {}), log };
  const p = await prepareTransfer(source, { data, val: r.val ?? '0.1', seed: options.seed, ...r.choices, log });
  checkUnknown(p, r);
  const { model, train, val, preprocess } = p;
  if (r.k !== undefined && r.k > train.n) throw new TlcvError('ARGUMENT', `--k: expected at most ${train.n} (the support images in --data), got ${r.k}`);
  const center = r.center === undefined ? null : await loadForModel(r.center, model, { ...how, preprocess });
  const learn = new Learner({ model, train, val, options, classes: train.classes, quiet: true });
  const tf = performance.now();
  const head = await learn.fewShotHead({ mode: r.mode, ...(r.k === undefined ? {} : { k: r.k }), center, probe: { seed: options.seed } });
  const fitSeconds = (performance.now() - tf) / 1000;
  const evalSet = val ?? train;
  const evaluation = await learn.evaluate(evalSet, { batchSize: 256 });
  const cal = await calibration(p, r);
  if (r.out !== undefined) {
    const provenance = { command: 'transfer', from: r.from, data, mode: r.mode, ...(r.center === undefined ? {} : { center: r.center }), ...(head.lambda === undefined ? {} : { lambda: head.lambda }) };
    const info: Record<string, string | number> = { head: `${r.mode} on ${head.supportImages} support images, ${head.featureDim} features`, 'fit seconds': Number(head.seconds.toFixed(2)) };
    if (r.mode !== 'probe') info['centred on'] = head.centeredOn === 'source' ? `the mean of ${r.center}` : 'the support set mean';
    if (r.mode === 'knn') info.k = r.k ?? 5;
    if (head.lambda !== undefined) info['L2 strength'] = head.lambda;
    Object.assign(info, calibrationInfo(cal));
    const fit = { history: [], bestEpoch: 0, stoppedEarly: false, lrTrace: [] };
    const title = `${r.mode} head from ${r.from} on ${data}`;
    await writeResultFolder(r.out.dir, { classes: train.classes, preprocess, calibration: cal, report: { title, model, plan: learn.evaluationPlan!, options, fit, evaluation, evalSet, epochSeconds: [], provenance, info } });
  }
  const summary = `${r.mode} head fitted on ${head.supportImages} images (${head.featureDim} features) in ${head.seconds.toFixed(2)}s`;
  log(`source: ${r.description ?? r.from}; ${summary}`);
  return { module: model, classes: train.classes, preprocess, evaluation, evaluatedOn: val ? 'validation' : 'support-set', fitSeconds, summary, calibration: cal };
}
