/**
 * The one reader and writer of a model folder: model.safetensors (torchvision names) and
 * config.json (architecture, classes, input size, normalization, and the whole preprocessing as
 * `preprocess`); a training run adds its other files (src/io/run-folder.ts). The model object
 * (model.ts) opens and saves folders through it, and nothing else does.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { TlcvError } from '../errors.js';
import { createModel, type ClassifierModel } from '../models/index.js';
import { legacyPreprocess, parsePreprocess, serializePreprocess, type PreprocessConfig, type PreprocessJson } from '../data/index.js';
import { readSafetensors, safetensorsChunks } from '../io/safetensors.js';
import { writeFilesAtomic } from '../io/atomic-write.js';
import { RUN_FILES } from '../io/run-folder.js';
import { checkHeadRecord, headRecord, restoreHead, type HeadRecord } from '../transfer/heads/head-record.js';
import type { CalibrationRecord } from '../metrics/index.js';
import { checkCalibrationRecord } from './calibration-record.js';

const CONFIG_FILE = RUN_FILES.config;
const WEIGHTS_FILE = RUN_FILES.weights;

export interface ModelFolderConfig {
  format: 'tlcv-model-1';
  model: string;
  numClasses: number;
  classes: string[];
  /** [channels, height, width] */
  inputSize: [number, number, number];
  mean: number[];
  std: number[];
  options: Record<string, number | string | boolean | number[]>;
  weights: string;
  provenance: Record<string, unknown>;
  /** What turns an image into this model's input (serializePreprocess); absent in folders written before it was recorded. */
  preprocess?: PreprocessJson;
  /** The classifier's kind when it is not the architecture's own (a kNN or float32 head). */
  head?: HeadRecord;
  /** How predict and evaluate run it by default: with test-time augmentation (tlcv fit sets it where validation says it helps). */
  inference?: { tta: boolean };
  /**
   * Temperature scaling and the unknown threshold fitted on the run's validation split
   * (`--unknown auto`); absent in folders trained without it, which answer as they always did.
   */
  calibration?: CalibrationRecord;
}

/**
 * Writes weights and config together (both or neither, should the disk fill up). `preprocess`
 * is the record the model was trained and evaluated with; it is required (null only for a
 * model whose input is neither gray nor RGB), so that deployment cannot drift from training.
 *
 * @example
 * saveModelFolder('runs/digits', model, { classes: train.classes, preprocess: train.preprocess });
 */
export function saveModelFolder(dir: string, model: ClassifierModel, info: { classes: string[]; provenance?: Record<string, unknown>; preprocess: PreprocessConfig | null; calibration?: CalibrationRecord | null; tta?: boolean }): ModelFolderConfig {
  const c = model.config;
  const images = c.inputSize[0] === 1 || c.inputSize[0] === 3;
  // No default: a folder whose record differs from what the model was trained and evaluated
  // with would make predict, serve and export preprocess differently (issue 19's bug).
  if (images && info.preprocess === null) {
    throw new TlcvError('ARGUMENT', `saveModelFolder ${dir}: a model whose input is an image (${c.inputSize[0]} channels) needs the preprocessing record it was trained with`);
  }
  mkdirSync(dir, { recursive: true });
  const config: ModelFolderConfig = {
    format: 'tlcv-model-1',
    model: c.name,
    numClasses: model.numClasses,
    classes: info.classes,
    inputSize: [...c.inputSize] as [number, number, number],
    mean: [...c.mean],
    std: [...c.std],
    options: { ...c.options },
    weights: WEIGHTS_FILE,
    provenance: info.provenance ?? {},
  };
  // A model whose input no image makes (neither gray nor RGB) has no record.
  if (images && info.preprocess !== null) {
    config.preprocess = serializePreprocess(info.preprocess);
    checkPreprocessFits(config.preprocess, config, dir);
  }
  const head = headRecord(model);
  if (head !== undefined) config.head = head;
  if (info.tta === true) config.inference = { tta: true };
  if (info.calibration) config.calibration = checkCalibrationRecord(info.calibration, dir, c.name)!;
  writeFilesAtomic([
    { path: join(dir, WEIGHTS_FILE), data: safetensorsChunks(model.stateDict(), { format: 'pt', tlcv_model: c.name }) },
    { path: join(dir, CONFIG_FILE), data: `${JSON.stringify(config, null, 2)}\n` },
  ]);
  return config;
}

function field(ok: boolean, path: string, name: string, expected: string, found: unknown): asserts ok {
  if (!ok) throw new TlcvError('FILE', `${path}: field "${name}" must be ${expected}, found ${JSON.stringify(found)?.slice(0, 80)}`);
}

/**
 * Reads and checks config.json; errors name the field, what it must be and what was found.
 *
 * @example
 * const { classes, inputSize } = readModelConfig('runs/digits');
 */
export function readModelConfig(dir: string): ModelFolderConfig {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) throw new TlcvError('FILE', `${dir} is not a tlcv model folder: ${CONFIG_FILE} is missing`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TlcvError('FILE', `${path}: not valid JSON (${(e as Error).message})`);
  }
  const c = raw as ModelFolderConfig;
  field(typeof c === 'object' && c !== null, path, '(root)', 'an object', raw);
  field(typeof c.model === 'string', path, 'model', 'a model name', c.model);
  field(Number.isInteger(c.numClasses) && c.numClasses > 0, path, 'numClasses', 'a positive integer', c.numClasses);
  field(Array.isArray(c.classes) && c.classes.length === c.numClasses, path, 'classes', `an array of ${c.numClasses} names`, c.classes);
  field(Array.isArray(c.inputSize) && c.inputSize.length === 3 && c.inputSize.every((v) => Number.isInteger(v) && v > 0), path, 'inputSize', '[channels, height, width]', c.inputSize);
  field(Array.isArray(c.mean) && Array.isArray(c.std), path, 'mean/std', 'arrays of numbers', [c.mean, c.std]);
  // The weights path must stay inside the folder: a config cannot point tlcv elsewhere.
  const weights = c.weights ?? WEIGHTS_FILE;
  field(typeof weights === 'string' && weights !== '' && basename(weights) === weights && weights !== '..' && weights !== '.', path, 'weights', 'a file name inside the model folder', weights);
  if (c.preprocess !== undefined) checkPreprocessFits(parsePreprocess(c.preprocess, `${path} (preprocess)`), c, path);
  const head = checkHeadRecord(c.head, path);
  if (c.inference !== undefined) field(typeof c.inference === 'object' && c.inference !== null && typeof c.inference.tta === 'boolean', path, 'inference', '{ "tta": true or false }', c.inference);
  const calibration = checkCalibrationRecord(c.calibration, path, c.model);
  return { ...c, weights, options: c.options ?? {}, ...(head === undefined ? {} : { head }), ...(calibration === undefined ? {} : { calibration }) };
}

function checkPreprocessFits(p: PreprocessJson | PreprocessConfig, c: ModelFolderConfig, where: string): void {
  const size = 'inputSize' in p ? p.inputSize : p.input_size;
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  field(same(size, c.inputSize), where, 'preprocess.input_size', `the model's inputSize ${JSON.stringify(c.inputSize)}`, size);
  field(same(p.mean, c.mean) && same(p.std, c.std), where, 'preprocess.mean/std', `the model's mean/std ${JSON.stringify([c.mean, c.std])}`, [p.mean, p.std]);
}

/**
 * The preprocessing a model folder's config records (parsePreprocess), or for a folder written
 * before it was recorded, the whole-image resize tlcv applied then (legacyPreprocess).
 *
 * @example
 * const cfg = modelPreprocess(readModelConfig('runs/photos')); // cfg.cropPct 0.875 for a photo model
 */
export function modelPreprocess(config: ModelFolderConfig, where = `model folder of ${config.model}`): PreprocessConfig {
  return config.preprocess === undefined ? legacyPreprocess(config) : parsePreprocess(config.preprocess, where);
}

export function isModelFolder(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, CONFIG_FILE));
}

/**
 * Builds the architecture from config.json and loads its weights strictly; `preprocess` is
 * what turns an image into its input (see modelPreprocess; null for a model whose input is
 * neither gray nor RGB, which no image becomes).
 *
 * @example
 * const { model, config, preprocess } = loadModelFolder('runs/digits');
 */
export function loadModelFolder(dir: string): { model: ClassifierModel; config: ModelFolderConfig; preprocess: PreprocessConfig | null } {
  const config = readModelConfig(dir);
  const [channels, height, width] = config.inputSize;
  const model = createModel(config.model, {
    numClasses: config.numClasses,
    inChannels: channels,
    inputSize: [height, width],
    ...(typeof config.options.alpha === 'number' ? { alpha: config.options.alpha } : {}),
    ...(typeof config.options.hidden === 'number' ? { hidden: config.options.hidden } : {}),
  });
  const weightsPath = resolve(dir, config.weights);
  if (!existsSync(weightsPath)) throw new TlcvError('FILE', `${dir}: weights file ${config.weights} is missing`);
  const sd = readSafetensors(weightsPath);
  try {
    restoreHead(model, config.head, sd);
    model.loadStateDict(sd, { strict: true });
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  model.config.mean = config.mean;
  model.config.std = config.std;
  model.eval();
  const images = config.inputSize[0] === 1 || config.inputSize[0] === 3;
  return { model, config, preprocess: images ? modelPreprocess(config, join(dir, CONFIG_FILE)) : null };
}
