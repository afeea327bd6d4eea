/**
 * Loading torchvision-named weights into a zoo model whose head or input channels differ:
 * a classifier of another size is dropped (and left freshly initialised), and 3-channel
 * first-conv weights are adapted to the model's channel count (timm's adapt_input_conv).
 * Everything else must fit exactly.
 */
import { extname } from 'node:path';
import { TlcvError } from '../errors.js';
import { readPth } from '../io/pth.js';
import { readSafetensors } from '../io/safetensors.js';
import { checkStateDict, describeProblems, toStateMap, type StateDictInput } from '../nn/index.js';
import { tidy, keep, type Tensor } from '../tensor/index.js';
import type { ClassifierModel } from './classifier.js';

export { resolvePretrained } from './weights-cache.js';

export interface PretrainedReport {
  /** Keys copied into the model. */
  loaded: string[];
  /** Classifier keys left out because their shapes differ from the model's, or absent from a backbone-only file. */
  droppedClassifier: string[];
  /** Tensors of another shape made to fit (a ViT's position embedding for another input size). */
  adapted: { name: string; from: number[]; to: number[]; how: string }[];
  /** How the first conv was adapted, when it was. */
  adaptedFirstConv: { name: string; from: number[]; to: number[] } | null;
  /** Entries the file lacked that the model fills in itself (BatchNorm's num_batches_tracked). */
  defaulted: string[];
}

const shapeText = (s: number[]): string => `[${s.join(', ')}]`;

/**
 * Adapts conv weights [O, I, kh, kw] to `channels` inputs: summing over RGB for one channel,
 * else repeating the RGB filters and scaling by 3/channels so activations keep their size.
 */
export function adaptInputConv(weight: Tensor, channels: number): Tensor {
  const [o, i, kh, kw] = weight.shape as [number, number, number, number];
  if (channels === i) return weight.clone();
  return tidy(() => {
    const w = weight.float();
    if (channels === 1) {
      if (i > 3) {
        if (i % 3 !== 0) throw new TlcvError('WEIGHTS', `cannot adapt first-conv weights with ${i} input channels to 1 (not a multiple of 3)`);
        return w.reshape([o, i / 3, 3, kh, kw]).sum(2).to(weight.dtype);
      }
      return w.sum(1, true).to(weight.dtype);
    }
    if (i !== 3) throw new TlcvError('WEIGHTS', `cannot adapt first-conv weights with ${i} input channels to ${channels} (only 3-channel weights can be)`);
    const repeat = Math.ceil(channels / 3);
    return w.repeat([1, repeat, 1, 1]).slice(1, 0, channels).mul(3 / channels).to(weight.dtype);
  });
}

/**
 * Loads torchvision-named weights into a zoo model, adapting the first conv and dropping a
 * classifier of another size, and says what it did through `log`. Anything else that does not
 * fit throws TlcvError('WEIGHTS') before a single value is copied.
 *
 * @example
 * const model = createModel('resnet18', { numClasses: 10, inChannels: 1 });
 * loadPretrained(model, readSafetensors('resnet18.safetensors'), { log: console.log });
 */
export function loadPretrained(model: ClassifierModel, sd: StateDictInput, o: { log?: (msg: string) => void } = {}): PretrainedReport {
  const log = o.log ?? ((): void => undefined);
  const source = new Map(toStateMap(sd));
  const own = model.stateDict();
  const report: PretrainedReport = { loaded: [], droppedClassifier: [], adapted: [], adaptedFirstConv: null, defaulted: [] };
  const name = model.config.name;
  const temporaries: Tensor[] = [];
  try {
    const cls = model.config.classifier;
    for (const key of [`${cls}.weight`, `${cls}.bias`]) {
      const mine = own.get(key);
      const theirs = source.get(key);
      if (mine !== undefined && theirs !== undefined && shapeText(mine.shape) !== shapeText(theirs.shape)) {
        source.delete(key);
        report.droppedClassifier.push(key);
      }
    }
    // A backbone's published weights (DINOv2's) carry no classifier at all.
    const headKeys = [...own.keys()].filter((k) => k.startsWith(`${cls}.`));
    if (model.config.pretrained?.backboneOnly === true && headKeys.length > 0 && headKeys.every((k) => !source.has(k))) {
      report.droppedClassifier.push(...headKeys);
      log(`${name}: the weights are a backbone's, without a classifier; ${cls} left freshly initialised`);
    } else if (report.droppedClassifier.length > 0) {
      const w = toStateMap(sd).get(`${cls}.weight`);
      log(
        `${name}: classifier ${cls} of the weights (${w === undefined ? '?' : shapeText(w.shape)}) does not fit this model's ${model.numClasses} classes; left it freshly initialised`,
      );
    }

    const convKey = `${model.config.firstConv}.weight`;
    const mine = own.get(convKey);
    const theirs = source.get(convKey);
    if (mine !== undefined && theirs !== undefined && theirs.ndim === 4 && mine.shape[1] !== theirs.shape[1]) {
      const sameOtherwise = mine.shape[0] === theirs.shape[0] && mine.shape[2] === theirs.shape[2] && mine.shape[3] === theirs.shape[3];
      if (sameOtherwise) {
        const adapted = keep(adaptInputConv(theirs, mine.shape[1]!));
        temporaries.push(adapted);
        source.set(convKey, adapted);
        report.adaptedFirstConv = { name: convKey, from: theirs.shape, to: adapted.shape };
        const how = mine.shape[1] === 1 ? 'summed over its input channels' : `repeated over ${mine.shape[1]} channels and scaled by 3/${mine.shape[1]}`;
        log(`${name}: first conv ${convKey} adapted from ${theirs.shape[1]} to ${mine.shape[1]} input channels (${how})`);
      }
    }

    for (const [key, theirs] of source) {
      const mine = own.get(key);
      if (mine === undefined || shapeText(mine.shape) === shapeText(theirs.shape)) continue;
      const fit = model.adaptPretrainedTensor(key, theirs);
      if (fit === null) continue;
      temporaries.push(keep(fit.tensor));
      source.set(key, fit.tensor);
      report.adapted.push({ name: key, from: theirs.shape, to: fit.tensor.shape, how: fit.how });
      log(`${name}: ${key} ${fit.how}`);
    }

    const optional = model.optionalStateEntries();
    const problems = checkStateDict(own, source, optional);
    problems.missing = problems.missing.filter((k) => !report.droppedClassifier.includes(k));
    if (problems.missing.length > 0 || problems.unexpected.length > 0 || problems.mismatched.length > 0) {
      throw new TlcvError('WEIGHTS', `weights do not fit ${name}:\n${describeProblems(problems)}`);
    }
    report.defaulted = [...optional].filter((k) => !source.has(k));
    if (report.defaulted.length > 0) log(`${name}: ${report.defaulted.length} num_batches_tracked entries absent from the weights; set to 0 as PyTorch does`);
    model.loadStateDict(source, { strict: false });
    report.loaded = [...source.keys()];
    return report;
  } finally {
    for (const t of temporaries) t.dispose();
  }
}

/**
 * Reads a weights file into a state dict by its extension: safetensors, or a PyTorch
 * .pth/.pt zip read without running pickled code. The caller owns the tensors.
 */
export function readWeightsFile(path: string): Map<string, Tensor> {
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return readSafetensors(path);
  if (ext === '.pth' || ext === '.pt' || ext === '.bin') return readPth(path);
  throw new TlcvError('FILE', `cannot read weights from ${path}: expected a .safetensors, .pth or .pt file but the extension is "${ext}"`);
}

/**
 * Reads a weights file and loads it with loadPretrained, disposing the file's tensors after.
 * Errors name the file. (Async so that a streaming reader can come later without changing
 * callers.)
 *
 * @example
 * await loadWeightsFile(model, await resolvePretrained('resnet18'), { log: console.log });
 */
export async function loadWeightsFile(model: ClassifierModel, path: string, o: { log?: (msg: string) => void } = {}): Promise<PretrainedReport> {
  const sd = readWeightsFile(path);
  try {
    return loadPretrained(model, sd, o);
  } catch (e) {
    if (e instanceof TlcvError && e.code === 'WEIGHTS' && !e.message.includes(path)) throw new TlcvError('WEIGHTS', `${path}: ${e.message}`);
    throw e;
  } finally {
    for (const t of sd.values()) t.dispose();
  }
}
