/**
 * Where a model comes from: a tlcv model folder, a weights file (safetensors or .pth with
 * torchvision names, with its architecture named), or a zoo name, with its published weights or
 * (an architecture alone) to be built for the data that trains it.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { TlcvError } from '../errors.js';
import type { PreprocessConfig } from '../data/index.js';
import type { CalibrationRecord } from '../metrics/index.js';
import { createModel, getModelConfig, listModels, type ClassifierModel, type CreateModelOptions } from '../models/index.js';
import { loadWeightsFile, resolvePretrained } from '../models/pretrained.js';
import { isModelFolder, loadModelFolder } from './model-folder.js';

export interface OpenOptions {
  /** Architecture of a bare weights file (a zoo name); for a zoo name it must agree. */
  arch?: string;
  /**
   * A zoo name: load its published ImageNet weights (true), or keep the architecture alone, to be
   * built for the data that trains it (false). Default: the weights where the zoo has them.
   */
  pretrained?: boolean;
  /** Input [height, width] to build a zoo model or a weights file's architecture at. */
  inputSize?: [number, number];
  inChannels?: number;
  /** An architecture's settings (mobilenet_v2's width multiplier), for one built from scratch. */
  alpha?: number;
  log?: (line: string) => void;
}

/** What was opened: a built module (with its classes and record), or an architecture to build. */
export type Opened =
  | { kind: 'module'; module: ClassifierModel; classes: string[]; preprocess: PreprocessConfig | null; description: string; tta?: boolean; calibration?: CalibrationRecord }
  | { kind: 'architecture'; arch: string; build: CreateModelOptions; description: string };

const defaultClasses = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));

function built(o: OpenOptions): CreateModelOptions {
  return { ...(o.inChannels ? { inChannels: o.inChannels } : {}), ...(o.inputSize ? { inputSize: o.inputSize } : {}) };
}

/**
 * Opens `source` (see the file comment). Errors name the source and what was expected.
 *
 * @example
 * const opened = await openModel('runs/source');                                // a model folder
 * const weights = await openModel('resnet18.pth', { arch: 'resnet18' });       // a weights file
 * const fresh = await openModel('seed-cnn', { pretrained: false });            // an architecture
 */
export async function openModel(source: string, o: OpenOptions = {}): Promise<Opened> {
  const log = o.log ? { log: o.log } : {};
  if (isModelFolder(source)) {
    const { model, config, preprocess } = loadModelFolder(source);
    const [, h, w] = model.config.inputSize;
    if (o.inputSize && (o.inputSize[0] !== h || o.inputSize[1] !== w)) {
      model.dispose();
      throw new TlcvError('ARGUMENT', `--input-size ${o.inputSize.join('x')}: the model folder ${source} was trained at ${h}x${w} and keeps that size; give --input-size with a zoo name or a weights file`);
    }
    const calibration = config.calibration === undefined ? {} : { calibration: config.calibration };
    return { kind: 'module', module: model, classes: config.classes, preprocess, description: `model folder ${source} (${config.model}, ${config.numClasses} classes)`, ...(config.inference?.tta ? { tta: true } : {}), ...calibration };
  }
  if (existsSync(source) && statSync(source).isFile()) {
    const ext = extname(source).toLowerCase();
    if (ext !== '.safetensors' && ext !== '.pth' && ext !== '.pt') {
      throw new TlcvError('ARGUMENT', `--model ${source}: expected a model folder, a .safetensors or .pth weights file, or a zoo model name`);
    }
    if (o.arch === undefined) throw new TlcvError('ARGUMENT', `--model ${source} is a weights file: say which architecture it is with --arch NAME`);
    const model = createModel(o.arch, built(o));
    try {
      await loadWeightsFile(model, source, log);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return { kind: 'module', module: model, classes: defaultClasses(model.numClasses), preprocess: null, description: `${o.arch} weights from ${source}` };
  }
  if (existsSync(source) && statSync(source).isDirectory()) throw new TlcvError('FILE', `${source} is not a tlcv model folder: config.json is missing`);
  const known = listModels();
  if (!known.includes(source)) throw new TlcvError('ARGUMENT', `--model ${source}: no such model folder or weights file, and not a zoo model (known: ${known.join(', ')})`);
  if (o.arch !== undefined && o.arch !== source) throw new TlcvError('ARGUMENT', `--arch ${o.arch}: ${source} is a zoo name already, of architecture ${source}`);
  const hasWeights = getModelConfig(source).pretrained !== undefined;
  if (o.pretrained === false || (o.pretrained === undefined && !hasWeights)) {
    return { kind: 'architecture', arch: source, build: { ...built(o), ...(o.alpha === undefined ? {} : { alpha: o.alpha }) }, description: `${source}, freshly initialised` };
  }
  const model = createModel(source, built(o));
  try {
    const file = await resolvePretrained(source, {});
    await loadWeightsFile(model, file, log);
    return { kind: 'module', module: model, classes: defaultClasses(model.numClasses), preprocess: null, description: `${source} with pretrained weights (${file})` };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
