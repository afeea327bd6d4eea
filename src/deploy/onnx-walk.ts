/**
 * The module tree to ONNX nodes, walked once: one small function per module kind. A module
 * that describes its forward (`forwardSpec()`, src/models/forward-spec.ts) is emitted from that
 * description; a Sequential is its children in order; a BatchNorm2d right after a Conv2d is
 * folded into the conv's weights. Dropout is the identity at inference and is dropped.
 */
import { TlcvError } from '../errors.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, ReLU6, Sequential } from '../nn/index.js';
import { foldConvBn } from '../nn/fold.js';
import { describesForward, type ForwardStep } from '../models/index.js';
import { tidy, type F } from '../tensor/index.js';
import type { GraphBuilder, Value } from './onnx-builder.js';
import { CNN_EMITTERS, type EmitChild } from './onnx-cnn-ops.js';
import { TRANSFORMER_EMITTERS, emitLinearTokens } from './onnx-transformer-ops.js';

/** One step of a chain: a module with its dotted path, or a functional step. */
type Item = { module: Module; path: string } | { op: 'globalAvgPool' | 'flatten' } | { residual: Item[]; shortcut: Item[]; path: string };

type Pair = F.Pair;
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : p);
/** torch's symmetric [padH, padW] as ONNX's [top, left, bottom, right]. */
const pads = (p: [number, number]): number[] => [p[0], p[1], p[0], p[1]];

type Emitter<M extends Module> = (g: GraphBuilder, m: M, path: string, x: Value, emitChild: EmitChild) => Value;

function emitConv(g: GraphBuilder, conv: Conv2d, path: string, x: Value, bn?: BatchNorm2d): Value {
  const inputs = tidy(() => {
    if (bn !== undefined) {
      // foldConvBn's tensors outlive tidy (they are kept for its callers): freed here once copied.
      const { weight, bias } = foldConvBn(conv, bn);
      try {
        return [g.addTensor(`${path}.weight`, weight), g.addTensor(`${path}.bias`, bias)];
      } finally {
        weight.dispose();
        bias.dispose();
      }
    }
    const b = conv.bias;
    return [g.addTensor(`${path}.weight`, conv.weight), ...(b === null ? [] : [g.addTensor(`${path}.bias`, b)])];
  });
  const attrs = { kernel_shape: conv.kernelSize, strides: conv.stride, pads: pads(conv.padding), dilations: conv.dilation, group: conv.groups };
  return { name: g.node('Conv', [x.name, ...inputs], path, attrs), rank: 4 };
}

/** A BatchNorm2d that follows no conv stays a BatchNormalization node. */
const emitBatchNorm: Emitter<BatchNorm2d> = (g, bn, path, x) => {
  const mean = bn.runningMean;
  const variance = bn.runningVar;
  if (mean === null || variance === null) throw new TlcvError('MODEL', `cannot export ${path}: a BatchNorm2d without running statistics has no inference form`);
  const names = tidy(() => {
    const ones = mean.mul(0).add(1);
    return [bn.weight ?? ones, bn.bias ?? mean.mul(0), mean, variance].map((t, i) => g.addTensor(`${path}.${['weight', 'bias', 'running_mean', 'running_var'][i]}`, t));
  });
  return { name: g.node('BatchNormalization', [x.name, ...names], path, { epsilon: bn.eps }, ['epsilon']), rank: x.rank };
};

const emitRelu: Emitter<ReLU> = (g, _m, path, x) => ({ name: g.node('Relu', [x.name], path), rank: x.rank });

/** min(max(x, 0), 6): Clip, whose bounds are inputs since opset 11. */
const emitRelu6: Emitter<ReLU6> = (g, _m, path, x) => {
  const lo = g.addFloats(`${path}.min`, [], Float32Array.of(0));
  const hi = g.addFloats(`${path}.max`, [], Float32Array.of(6));
  return { name: g.node('Clip', [x.name, lo, hi], path), rank: x.rank };
};

const emitMaxPool: Emitter<MaxPool2d> = (g, m, path, x) => {
  const o = m.options;
  const attrs = {
    kernel_shape: pair(m.kernelSize),
    strides: pair(o.stride ?? m.kernelSize),
    pads: pads(pair(o.padding ?? 0)),
    dilations: pair(o.dilation ?? 1),
    ceil_mode: o.ceilMode === true ? 1 : 0,
  };
  return { name: g.node('MaxPool', [x.name], path, attrs), rank: 4 };
};

const emitAdaptiveAvgPool: Emitter<AdaptiveAvgPool2d> = (g, m, path, x) => {
  const [h, w] = pair(m.outputSize);
  if (h !== 1 || w !== 1) throw new TlcvError('MODEL', `cannot export ${path}: AdaptiveAvgPool2d to ${h}x${w} (only 1x1, GlobalAveragePool, is supported)`);
  return globalAvgPool(g, path, x);
};

const globalAvgPool = (g: GraphBuilder, path: string, x: Value): Value => ({ name: g.node('GlobalAveragePool', [x.name], path), rank: 4 });
const flatten = (g: GraphBuilder, path: string, x: Value): Value => ({ name: g.node('Flatten', [x.name], path, { axis: 1 }), rank: 2 });

const emitFlatten: Emitter<Flatten> = (g, m, path, x) => {
  if (m.startDim !== 1 || (m.endDim !== -1 && m.endDim !== x.rank - 1)) {
    throw new TlcvError('MODEL', `cannot export ${path}: Flatten(${m.startDim}, ${m.endDim}) (only Flatten(1, -1) maps to ONNX's Flatten)`);
  }
  return flatten(g, path, x);
};

/** y = x Wᵀ + b: Gemm with transB on 2-d input; MatMul and Add on tokens. */
const emitLinear: Emitter<Linear> = (g, fc, path, x) => {
  if (x.rank !== 2) return emitLinearTokens(g, fc, path, x);
  const inputs = tidy(() => [g.addTensor(`${path}.weight`, fc.weight), ...(fc.bias === null ? [] : [g.addTensor(`${path}.bias`, fc.bias)])]);
  return { name: g.node('Gemm', [x.name, ...inputs], path, { transB: 1 }), rank: 2 };
};

const passThrough: Emitter<Module> = (_g, _m, _path, x) => x;

/** Leaf module kinds; anything with children goes through its forwardSpec or Sequential. */
const EMITTERS: [abstract new (...args: never[]) => Module, Emitter<never>][] = [
  ...TRANSFORMER_EMITTERS,
  [Conv2d, (g, m: Conv2d, path, x) => emitConv(g, m, path, x)],
  [BatchNorm2d, emitBatchNorm],
  [ReLU, emitRelu],
  [ReLU6, emitRelu6],
  [MaxPool2d, emitMaxPool],
  [AdaptiveAvgPool2d, emitAdaptiveAvgPool],
  [Flatten, emitFlatten],
  [Linear, emitLinear],
  [Dropout, passThrough],
  [Identity, passThrough],
  ...CNN_EMITTERS,
];

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/** What a module does, as a chain of items: its own description, its children in order, or itself. */
function itemsOf(m: Module, path: string): Item[] {
  if (describesForward(m)) return m.forwardSpec().map((s) => resolveStep(m, path, s));
  if (m instanceof Sequential) return [...m.namedChildren()].map(([name, c]) => ({ module: c, path: join(path, name) }));
  return [{ module: m, path }];
}

function resolveStep(owner: Module, path: string, step: ForwardStep): Item {
  if (typeof step === 'string') {
    const child = owner.namedChildren().get(step);
    if (child === undefined) throw new TlcvError('MODEL', `internal: ${owner.constructor.name}.forwardSpec() names "${step}", which is not a child of ${path || 'the model'}`);
    return { module: child, path: join(path, step) };
  }
  if ('op' in step) return { op: step.op };
  return { residual: step.residual.map((s) => resolveStep(owner, path, s)), shortcut: step.shortcut.map((s) => resolveStep(owner, path, s)), path };
}

function emitLeaf(g: GraphBuilder, m: Module, path: string, x: Value): Value {
  const entry = EMITTERS.find(([kind]) => m instanceof kind);
  if (entry === undefined) {
    throw new TlcvError('MODEL', `cannot export ${path || 'the model'}: no ONNX form for a ${m.constructor.name} (give the class a forwardSpec(), see src/models/forward-spec.ts)`);
  }
  return (entry[1] as Emitter<Module>)(g, m, path, x, (child, childPath, v) => emitChain(g, itemsOf(child, childPath), v));
}

/** Emits a chain of items, folding each Conv2d + BatchNorm2d pair. */
export function emitChain(g: GraphBuilder, items: Item[], x: Value): Value {
  let out = x;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i]!;
    if ('op' in item) {
      out = item.op === 'flatten' ? flatten(g, 'flatten', out) : globalAvgPool(g, 'pool', out);
    } else if ('residual' in item) {
      const body = emitChain(g, item.residual, out);
      const shortcut = emitChain(g, item.shortcut, out);
      out = { name: g.node('Add', [body.name, shortcut.name], item.path), rank: body.rank };
    } else {
      const next = items[i + 1];
      if (item.module instanceof Conv2d && next !== undefined && 'module' in next && next.module instanceof BatchNorm2d) {
        out = emitConv(g, item.module, item.path, out, next.module);
        i += 1;
      } else {
        const inner = itemsOf(item.module, item.path);
        out = inner.length === 1 && inner[0] !== undefined && 'module' in inner[0] && inner[0].module === item.module ? emitLeaf(g, item.module, item.path, out) : emitChain(g, inner, out);
      }
    }
  }
  return out;
}

/**
 * Emits a whole model from input value `x` and returns its output value.
 *
 * @example
 * const logits = emitModule(builder, model, { name: 'normalized', rank: 4 });
 */
export function emitModule(g: GraphBuilder, model: Module, x: Value): Value {
  return emitChain(g, itemsOf(model, ''), x);
}
