/**
 * A model (or a frozen prefix of its stages) run with every conv + BatchNorm pair folded:
 * the BatchNorm pass disappears and the conv gets the folded weights, pre-cast to the dtype
 * and layout the plan runs in. With bf16, the other convs and linear layers get pre-cast
 * copies too, so autocast no longer casts a weight on every call. The model's own forward
 * code runs; its state dict, modes and trainable parts are untouched.
 */
import { TlcvError, argumentError } from '../errors.js';
import { noGrad, runtimeInfo, tidy, zeros, type MemoryFormat, type Tensor } from '../tensor/index.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { foldConvBn } from './fold.js';
import { traceForwards, withFolds, type ActiveWeights } from './fold-state.js';
import type { Module } from './module.js';

export interface FoldedInferenceOptions {
  /** Fold only pairs whose modules lie under these paths (a frozen prefix's stage prefixes); default all. */
  prefixes?: string[];
  /** The dtype the folded convs run in: 'bfloat16' when the plan runs bf16 autocast. Default float32. */
  dtype?: 'float32' | 'bfloat16';
  /** 'channelsLast' when the plan runs channels-last. */
  memoryFormat?: MemoryFormat;
  /** An input for the one traced forward that finds which BatchNorm follows which conv; default zeros shaped [1, ...config.inputSize]. */
  sample?: Tensor;
}

export interface FoldedPair {
  conv: string;
  bn: string;
}

export interface FoldedInference {
  /** The conv + BatchNorm pairs folded, by module path. */
  readonly pairs: FoldedPair[];
  /** The other convs and linear layers whose weights were pre-cast (bf16 only), by module path. */
  readonly precast: string[];
  /** The model's forward, folded (call it in eval mode, e.g. under inferenceMode). */
  forward(x: Tensor): Tensor;
  /** Runs fn (a frozen prefix of stages, say) with the pairs folded. */
  run<T>(fn: () => T): T;
  /** Frees the folded weights. */
  dispose(): void;
}

interface Entry {
  layer: Conv2d | Linear;
  bn: BatchNorm2d | null;
  weights: ActiveWeights;
  path: string;
  bnPath: string;
}

const under = (path: string, prefixes: string[] | undefined): boolean =>
  prefixes === undefined || prefixes.some((p) => p === '' || path === p || path.startsWith(`${p}.`));

function defaultSample(model: Module): Tensor {
  const size = (model as { config?: { inputSize?: unknown } }).config?.inputSize;
  if (!Array.isArray(size) || size.length !== 3) throw new TlcvError('ARGUMENT', 'foldedForInference needs options.sample for a model without config.inputSize');
  // On the weights' device, so a CUDA model traces too.
  return zeros([1, ...(size as number[])], { device: model.parameters()[0]?.device ?? 'cpu' });
}

/** Which BatchNorm normalises which conv's output, as one eval-mode forward shows it. */
function tracePairs(model: Module, sample: Tensor | undefined): [Conv2d, BatchNorm2d][] {
  const modes = [...model.namedModules().values()].map((m) => [m, m.training] as const);
  const producedBy = new Map<Tensor, Conv2d>();
  const pairs: [Conv2d, BatchNorm2d][] = [];
  try {
    model.eval();
    noGrad(() =>
      tidy(() => {
        const x = sample ?? defaultSample(model);
        traceForwards(
          (m, input, output) => {
            if (m instanceof Conv2d) producedBy.set(output, m);
            const conv = producedBy.get(input);
            if (m instanceof BatchNorm2d && conv !== undefined) pairs.push([conv, m]);
          },
          () => model.forward(x),
        );
      }),
    );
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  return pairs;
}

// Which BatchNorm follows which conv depends on the module tree, not on the weights: one trace
// per tree serves every later view (a validation each epoch, each candidate of a plan timing).
const traced = new WeakMap<Module, { modules: Module[]; pairs: [Conv2d, BatchNorm2d][] }>();

function pairsOf(model: Module, sample: Tensor | undefined): [Conv2d, BatchNorm2d][] {
  const modules = [...model.namedModules().values()];
  const hit = traced.get(model);
  if (hit !== undefined && hit.modules.length === modules.length && hit.modules.every((m, i) => m === modules[i])) return hit.pairs;
  const pairs = tracePairs(model, sample);
  traced.set(model, { modules, pairs });
  return pairs;
}

/**
 * Folds every conv + BatchNorm pair of `model` (found by tracing one forward, once per module
 * tree) and returns a view that runs the model with them folded. A pair is folded only while it means the same
 * thing: not while its BatchNorm normalises with batch statistics (training, not frozen), nor
 * while autograd records and the pair has trainable weights. The folded weights are a
 * snapshot: make a new view after the weights change. Against the unfolded eval forward in
 * fp32 the logits differ by at most 1.3e-6 of the largest one (zoo models, test/fold.test.ts).
 *
 * Where to use it: evaluation and prediction (`folded.forward(x)` under inferenceMode and the
 * plan's autocast), and a frozen prefix during training (`folded.run(() => stages[i].forward(x))`).
 *
 * @example
 * const folded = foldedForInference(model, { dtype: plan.bf16 ? 'bfloat16' : 'float32', memoryFormat: plan.channelsLast ? 'channelsLast' : 'contiguous' });
 * const logits = inferenceMode(() => withPlan(plan, () => folded.forward(x)));
 * folded.dispose();
 */
export function foldedForInference(model: Module, o: FoldedInferenceOptions = {}): FoldedInference {
  if (o.dtype !== undefined && o.dtype !== 'float32' && o.dtype !== 'bfloat16') throw argumentError('dtype', '"float32" or "bfloat16"', o.dtype);
  const dtype = o.dtype ?? 'float32';
  const memoryFormat = o.memoryFormat ?? 'contiguous';
  const paths = new Map<Module, string>([...model.namedModules()].map(([p, m]) => [m, p]));
  const pathOf = (m: Module): string => paths.get(m) ?? '?';
  const entries: Entry[] = [];
  const cast = (w: Tensor, b: Tensor | null, layer: Conv2d | Linear): ActiveWeights =>
    tidy(() => ({
      weight: w.detach().to({ dtype, memoryFormat: layer instanceof Conv2d ? memoryFormat : 'contiguous' }).keep(),
      bias: b === null ? null : b.detach().to(dtype).keep(),
    }));
  try {
    // Without a BatchNorm in reach there is no pair to find, and no forward to trace (a head's
    // validation each epoch, a model without BatchNorm such as seed-cnn).
    const norms = [...model.namedModules()].some(([p, m]) => m instanceof BatchNorm2d && under(p, o.prefixes));
    for (const [conv, bn] of norms ? pairsOf(model, o.sample) : []) {
      if (!under(pathOf(conv), o.prefixes) || !under(pathOf(bn), o.prefixes) || bn.runningMean === null) continue;
      const raw = foldConvBn(conv, bn);
      try {
        entries.push({ layer: conv, bn, weights: cast(raw.weight, raw.bias, conv), path: pathOf(conv), bnPath: pathOf(bn) });
      } finally {
        raw.weight.dispose();
        raw.bias.dispose();
      }
    }
    // Under bf16 autocast every other conv and linear weight would be cast on every call.
    if (dtype === 'bfloat16') {
      const folded = new Set<Module>(entries.map((e) => e.layer));
      for (const [path, m] of model.namedModules()) {
        if ((m instanceof Conv2d || m instanceof Linear) && !folded.has(m) && under(path, o.prefixes)) {
          entries.push({ layer: m, bn: null, weights: cast(m.weight, m.bias, m), path, bnPath: '' });
        }
      }
    }
  } catch (e) {
    disposeEntries(entries);
    throw e;
  }
  let disposed = false;
  const trainable = (e: Entry): boolean => [e.layer.weight, e.layer.bias, e.bn?.weight, e.bn?.bias].some((t) => t?.requiresGrad ?? false);
  const run = <T>(fn: () => T): T => {
    if (disposed) throw new TlcvError('DISPOSED', 'a folded inference view was used after dispose()');
    const recording = entries.some(trainable) && runtimeInfo().gradEnabled;
    const active = entries.filter((e) => !(e.bn?.updatesRunningStats ?? false) && !(recording && trainable(e)));
    return withFolds(active, fn);
  };
  return {
    pairs: entries.filter((e) => e.bn !== null).map((e) => ({ conv: e.path, bn: e.bnPath })),
    precast: entries.filter((e) => e.bn === null).map((e) => e.path),
    forward: (x) => run(() => model.forward(x)),
    run,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      disposeEntries(entries);
    },
  };
}

function disposeEntries(entries: Entry[]): void {
  for (const e of entries) {
    e.weights.weight.dispose();
    e.weights.bias?.dispose();
  }
}
