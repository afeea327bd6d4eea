/**
 * What a model costs: its parameters and the multiply-adds of one forward at an input size,
 * counted on the ops a real forward runs (convolutions, linear layers, matmuls and attention),
 * as torchvision's and fvcore's tables count "GFLOPs": one multiply-add is one FLOP there, and
 * element-wise ops, normalisation and pooling are left out. Counting the forward itself, not a
 * table per layer kind, keeps every architecture of the zoo right without knowing its blocks.
 */
import { inferenceMode, observeOps, tidy, zeros, type OpObserver, type Tensor } from '../tensor/index.js';
import { createModel, getModelConfig } from './registry.js';

export interface ModelCost {
  model: string;
  /** [C, H, W] the forward was counted at. */
  inputSize: [number, number, number];
  /** Classes of the head counted (the zoo entry's default: 1000 for ImageNet models). */
  numClasses: number;
  params: number;
  /** Multiply-adds of one image's forward (torchvision's "GFLOPs" x 1e9). */
  macs: number;
}

const isTensor = (v: unknown): v is Tensor => typeof v === 'object' && v !== null && 'shape' in v && 'numel' in v;
const last = (t: Tensor, from = 1): number => t.shape[t.shape.length - from] ?? 1;

/** Multiply-adds of one op call, from its arguments' and result's shapes (0: not counted). */
export function opMacs(name: string, args: unknown[], result: unknown): number {
  const out = Array.isArray(result) ? result[0] : result;
  if (!isTensor(out)) return 0;
  const [a, b] = args;
  switch (name) {
    case 'conv2d': // weight [O, I / groups, kH, kW]: each output element sums I / groups * kH * kW products
      return isTensor(b) ? out.numel * b.shape.slice(1).reduce((x, y) => x * y, 1) : 0;
    case 'linear': // weight [out, in]
      return isTensor(b) ? out.numel * last(b) : 0;
    case 'matmul':
    case 'mm':
    case 'bmm':
      return isTensor(a) ? out.numel * last(a) : 0;
    case 'addmm':
    case 'baddbmm':
      return isTensor(b) ? out.numel * last(b) : 0;
    case 'scaled_dot_product_attention':
    case '_scaled_dot_product_attention': {
      // q [..., T, D] against k [..., S, D]: Q K^T is q.numel * S, A V is out.numel * S.
      const k = args[1];
      return isTensor(a) && isTensor(k) ? (a.numel + out.numel) * last(k, 2) : 0;
    }
    default:
      return 0;
  }
}

/**
 * Counts `fn`'s multiply-adds (ops run through `invoke`; see opMacs).
 *
 * @example
 * const macs = countMacs(() => model.forward(x));
 */
export function countMacs(fn: () => void): number {
  let macs = 0;
  const count: OpObserver = (name, args, result) => {
    macs += opMacs(name, args, result);
  };
  const before = observeOps(count);
  try {
    fn();
  } finally {
    observeOps(before);
  }
  return macs;
}

/**
 * Builds `name` (random weights), counts its parameters and one eval forward's multiply-adds at
 * `inputSize` ([H, W]; default the zoo entry's), and frees it. Seconds for the largest models.
 *
 * @example
 * measureModelCost('resnet18').macs / 1e9; // 1.81, torchvision's "GFLOPs"
 */
export function measureModelCost(name: string, o: { inputSize?: [number, number] } = {}): ModelCost {
  const config = getModelConfig(name);
  const [c, h, w] = [config.inputSize[0], ...(o.inputSize ?? [config.inputSize[1], config.inputSize[2]])] as [number, number, number];
  const model = createModel(name, { inputSize: [h, w] });
  try {
    model.eval();
    const macs = inferenceMode(() => tidy(() => countMacs(() => void model.forward(zeros([1, c, h, w])))));
    return { model: name, inputSize: [c, h, w], numClasses: config.numClasses, params: model.numParameters(), macs };
  } finally {
    model.dispose();
  }
}
