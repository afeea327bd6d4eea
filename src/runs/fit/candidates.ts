/**
 * Which backbones `tlcv fit` tries. A named model (folder, weights file, zoo name) is the one
 * candidate. `auto` looks only at what is on this machine, since it may be offline: zoo weights
 * already in the weights cache (the smallest first, two at most), else a small architecture
 * trained from scratch; it says what it chose and why. It also times each candidate's forward, where
 * the cost model starts.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inferenceMode, tidy, zeros } from '../../tensor/index.js';
import { describeData, isFileDataset, type Dataset } from '../../data/index.js';
import { createModel, defaultWeightsDir, getModelConfig, listModels, resolveConfig, type ClassifierModel } from '../../models/index.js';
import { isModelFolder } from '../model-folder.js';
import { load } from '../model.js';
import { runPreprocess, type DataChoices } from '../data-prep.js';

export interface FitCandidate {
  /** The name on the leaderboard. */
  backbone: string;
  /** pretrained: features worth transferring (heads, feature extraction, fine-tuning); scratch: trained from its seeded initial weights. */
  kind: 'pretrained' | 'scratch';
  /** What `load` opens: a model folder, a weights file, a zoo name. */
  source: string;
  /** The architecture of a weights file. */
  arch?: string;
}

/** Zoo models in the order auto tries them: cheapest forward first on a CPU. */
export const AUTO_PREFERENCE = ['mobilenet_v3_small', 'mobilenet_v3_large', 'mobilenet_v2', 'regnet_y_400mf', 'resnet18', 'efficientnet_b0', 'resnet34', 'resnet50'];
/** Cached backbones auto tries at most: each one's heads cost a pass over the data. */
export const AUTO_MAX_PRETRAINED = 2;
/** What auto trains from scratch when no pretrained weights are at hand. */
export const AUTO_SCRATCH = 'seed-cnn';

/** Zoo names whose pretrained weights are already in `dir` (no download). */
export function cachedZooWeights(dir = defaultWeightsDir()): string[] {
  const have = listModels().filter((name) => {
    const p = getModelConfig(name).pretrained;
    return p !== undefined && existsSync(join(dir, p.file));
  });
  const rank = (n: string): number => (AUTO_PREFERENCE.includes(n) ? AUTO_PREFERENCE.indexOf(n) : AUTO_PREFERENCE.length);
  return have.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The candidates for `model` ('auto', a model folder, a weights file with `arch`, a zoo name),
 * and one line saying why.
 *
 * @example
 * const { candidates, why } = chooseCandidates('auto');
 */
export function chooseCandidates(model: string, o: { arch?: string; weightsDir?: string } = {}): { candidates: FitCandidate[]; why: string } {
  if (model !== 'auto') {
    if (isModelFolder(model)) return { candidates: [{ backbone: model, kind: 'pretrained', source: model }], why: `the model folder ${model}` };
    if (existsSync(model) && statSync(model).isFile()) {
      return { candidates: [{ backbone: o.arch ?? model, kind: 'pretrained', source: model, ...(o.arch === undefined ? {} : { arch: o.arch }) }], why: `the weights file ${model}` };
    }
    const config = getModelConfig(model);
    if (config.pretrained === undefined) return { candidates: [{ backbone: model, kind: 'scratch', source: model }], why: `${model}, which has no pretrained weights: trained from scratch` };
    return { candidates: [{ backbone: model, kind: 'pretrained', source: model }], why: `${model} with its pretrained weights` };
  }
  const cached = cachedZooWeights(o.weightsDir);
  if (cached.length > 0) {
    const picked = cached.slice(0, AUTO_MAX_PRETRAINED);
    const others = cached.length > picked.length ? ` (also cached, not tried: ${cached.slice(picked.length).join(', ')})` : '';
    return {
      candidates: picked.map((name) => ({ backbone: name, kind: 'pretrained', source: name })),
      why: `auto: pretrained weights found in the weights cache for ${picked.join(' and ')}, the cheapest to run first${others}`,
    };
  }
  return {
    candidates: [{ backbone: AUTO_SCRATCH, kind: 'scratch', source: AUTO_SCRATCH }],
    why: `auto: no pretrained weights in the weights cache (${o.weightsDir ?? defaultWeightsDir()}) and no --model given, so ${AUTO_SCRATCH} is trained from scratch; put a zoo model's weights there (tlcv models lists their addresses) or pass --model to transfer instead`,
  };
}

/** Seconds one image's forward takes through `module` (eval mode, batch 8, after a warm-up). */
function forwardSecondsPerImage(module: ClassifierModel): number {
  const [c, h, w] = module.config.inputSize;
  const batch = 8;
  module.eval();
  const once = (): number => {
    const t0 = performance.now();
    inferenceMode(() => tidy(() => void module.forward(zeros([batch, c, h, w])).sum().item()));
    return (performance.now() - t0) / 1000;
  };
  once();
  return Math.min(once(), once()) / batch;
}

/** Seconds per image of `c`'s forward, at the input size its run will use (fit's cost model starts from it). */
export async function measureCandidate(c: FitCandidate, raw: Dataset, choices: DataChoices = {}): Promise<number> {
  if (c.kind === 'pretrained') {
    const m = await load(c.source, { engine: 'libtorch', precision: 'fp32', channelsLast: false, ...(c.arch === undefined ? {} : { arch: c.arch }) });
    try {
      return forwardSecondsPerImage(m.module);
    } finally {
      m.dispose();
    }
  }
  const summary = describeData(raw);
  const cfg = runPreprocess(resolveConfig(c.source, { inChannels: summary.channels }), summary, isFileDataset(raw), choices);
  const [ch, h, w] = cfg.inputSize;
  const module = createModel(c.source, { numClasses: raw.classes.length, inChannels: ch, inputSize: [h, w] });
  try {
    return forwardSecondsPerImage(module);
  } finally {
    module.dispose();
  }
}
