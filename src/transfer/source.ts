/**
 * Where a transfer starts: a tlcv model folder, a weights file (safetensors or .pth with
 * torchvision names), or a zoo name with its official pretrained weights.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { TlcvError } from '../errors.js';
import type { PreprocessConfig } from '../data/index.js';
import { createModel, listModels, type ClassifierModel } from '../models/index.js';
import { loadWeightsFile, resolvePretrained } from '../models/pretrained.js';
import { isModelFolder, loadModelFolder } from './model-folder.js';

export interface SourceModel {
  model: ClassifierModel;
  classes: string[];
  description: string;
  /** A model folder's preprocessing record: what its features were learnt with (null for a weights file or a zoo name). */
  preprocess: PreprocessConfig | null;
}

export interface SourceOptions {
  /** Architecture for a bare weights file. */
  modelName?: string;
  inChannels?: number;
  inputSize?: [number, number];
  log?: (m: string) => void;
}

export async function loadSourceModel(from: string, o: SourceOptions = {}): Promise<SourceModel> {
  if (isModelFolder(from)) {
    const { model, config, preprocess } = loadModelFolder(from);
    return { model, classes: config.classes, preprocess, description: `model folder ${from} (${config.model}, ${config.numClasses} classes)` };
  }
  if (existsSync(from) && statSync(from).isFile()) {
    const ext = extname(from).toLowerCase();
    if (ext !== '.safetensors' && ext !== '.pth' && ext !== '.pt') {
      throw new TlcvError('ARGUMENT', `--from ${from}: expected a model folder, a .safetensors or .pth weights file, or a zoo model name`);
    }
    if (o.modelName === undefined) throw new TlcvError('ARGUMENT', `--from ${from} is a weights file: say which architecture it is with --model NAME`);
    const model = createModel(o.modelName, { ...(o.inChannels ? { inChannels: o.inChannels } : {}), ...(o.inputSize ? { inputSize: o.inputSize } : {}) });
    await loadWeightsFile(model, from, { ...(o.log ? { log: o.log } : {}) });
    return { model, classes: Array.from({ length: model.numClasses }, (_, i) => String(i)), preprocess: null, description: `${o.modelName} weights from ${from}` };
  }
  const known = listModels();
  if (known.includes(from)) {
    const model = createModel(from, { ...(o.inChannels ? { inChannels: o.inChannels } : {}), ...(o.inputSize ? { inputSize: o.inputSize } : {}) });
    const file = await resolvePretrained(from, {});
    await loadWeightsFile(model, file, { ...(o.log ? { log: o.log } : {}) });
    return { model, classes: Array.from({ length: model.numClasses }, (_, i) => String(i)), preprocess: null, description: `${from} with pretrained weights (${file})` };
  }
  throw new TlcvError('ARGUMENT', `--from ${from}: no such model folder or weights file, and not a zoo model (known: ${known.join(', ')})`);
}
