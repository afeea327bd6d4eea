/**
 * ONNX emitters for the transformer half of the zoo (ConvNeXt, torchvision's ViT, DINOv2), in
 * opset 13's own ops: LayerNorm as ReduceMean, Sub, Pow, Sqrt, Div (LayerNormalization is opset
 * 17), GELU through Erf, attention as MatMul, Softmax, MatMul. onnx-walk.ts finds these by module
 * kind, as its own; blocks that are residual chains describe themselves with forwardSpec().
 */
import { TlcvError } from '../errors.js';
import { GELU, LayerNorm, LayerNorm2d, LayerScale, Linear, Module, MultiheadAttention, PatchEmbed, Permute, SelfAttention, StochasticDepth, type Conv2d } from '../nn/index.js';
import { CNBlock, DinoVisionTransformer, VisionTransformer } from '../models/index.js';
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import { onnx, type GraphBuilder, type Value } from './onnx-builder.js';

/** Emits a child module (through the walker: its forwardSpec, a Sequential's children, or its kind's emitter). */
export type EmitChild = (m: Module, path: string, x: Value) => Value;
export type TransformerEmitter<M extends Module> = (g: GraphBuilder, m: M, path: string, x: Value, emit: EmitChild) => Value;

/** An int64 initializer (shapes, indices, axes). */
function addInts(g: GraphBuilder, base: string, dims: number[], values: number[]): string {
  const name = g.fresh(base);
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  g.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
  return name;
}

const scalar = (g: GraphBuilder, base: string, v: number): string => g.addFloats(base, [], Float32Array.of(v));
const op = (g: GraphBuilder, type: string, inputs: string[], path: string, rank: number, attrs: Record<string, number | number[]> = {}): Value => ({ name: g.node(type, inputs, path, attrs), rank });

/** Normalises over `axis` (kept as 1 in the statistics): (x - mean) / sqrt(var + eps) * w + b, w and b shaped to broadcast. */
function layerNorm(g: GraphBuilder, ln: LayerNorm, path: string, x: Value, axis: number, affineDims: number[]): Value {
  const mean = op(g, 'ReduceMean', [x.name], path, x.rank, { axes: [axis], keepdims: 1 });
  const centred = op(g, 'Sub', [x.name, mean.name], path, x.rank);
  const square = op(g, 'Pow', [centred.name, scalar(g, `${path}.two`, 2)], path, x.rank);
  const variance = op(g, 'ReduceMean', [square.name], path, x.rank, { axes: [axis], keepdims: 1 });
  const std = op(g, 'Sqrt', [op(g, 'Add', [variance.name, scalar(g, `${path}.eps`, ln.eps)], path, x.rank).name], path, x.rank);
  let y = op(g, 'Div', [centred.name, std.name], path, x.rank);
  const w = ln.weight;
  const b = ln.bias;
  if (w !== null) y = op(g, 'Mul', [y.name, tidy(() => g.addTensor(`${path}.weight`, w.reshape(affineDims)))], path, x.rank);
  if (b !== null) y = op(g, 'Add', [y.name, tidy(() => g.addTensor(`${path}.bias`, b.reshape(affineDims)))], path, x.rank);
  return y;
}

const emitLayerNorm: TransformerEmitter<LayerNorm> = (g, ln, path, x) => layerNorm(g, ln, path, x, -1, [ln.normalizedShape[0]!]);
/** Over the channels of [N, C, H, W] (as ConvNeXt's LayerNorm2d permutes to do). */
const emitLayerNorm2d: TransformerEmitter<LayerNorm2d> = (g, ln, path, x) => layerNorm(g, ln, path, x, 1, [ln.normalizedShape[0]!, 1, 1]);

/** x/2 · (1 + erf(x/√2)). */
const emitGelu: TransformerEmitter<GELU> = (g, m, path, x) => {
  if (m.approximate !== 'none') throw new TlcvError('MODEL', `cannot export ${path}: GELU with the tanh approximation (only the exact form is emitted)`);
  const erf = op(g, 'Erf', [op(g, 'Div', [x.name, scalar(g, `${path}.sqrt2`, Math.SQRT2)], path, x.rank).name], path, x.rank);
  const half = op(g, 'Mul', [x.name, scalar(g, `${path}.half`, 0.5)], path, x.rank);
  return op(g, 'Mul', [half.name, op(g, 'Add', [erf.name, scalar(g, `${path}.one`, 1)], path, x.rank).name], path, x.rank);
};

const emitPermute: TransformerEmitter<Permute> = (g, m, path, x) => op(g, 'Transpose', [x.name], path, x.rank, { perm: m.dims });

/**
 * y = x Wᵀ + b over the last dim of a rank-3 or rank-4 input (tokens, channels-last maps): MatMul
 * with the transposed weight, then Add. onnx-walk's Linear emitter sends every input that is not
 * 2-d here (2-d input stays a Gemm).
 *
 * @example
 * emitLinearTokens(g, fc, 'mlp.0', { name: 'tokens', rank: 3 });
 */
export function emitLinearTokens(g: GraphBuilder, fc: Linear, path: string, x: Value): Value {
  const w = tidy(() => g.addTensor(`${path}.weight_t`, fc.weight.transpose(0, 1)));
  const y = op(g, 'MatMul', [x.name, w], path, x.rank);
  const b = fc.bias;
  return b === null ? y : op(g, 'Add', [y.name, tidy(() => g.addTensor(`${path}.bias`, b))], path, x.rank);
}

/** Packed q, k, v projections [N, T, 3E] to softmax(q kᵀ / √d) v [N, T, E], heads merged. */
function attention(g: GraphBuilder, path: string, qkv: Value, heads: number, dim: number): Value {
  const split = op(g, 'Reshape', [qkv.name, addInts(g, `${path}.qkv_shape`, [5], [0, 0, 3, heads, dim / heads])], path, 5);
  const perm = op(g, 'Transpose', [split.name], path, 5, { perm: [2, 0, 3, 1, 4] });
  const [q, k, v] = [0, 1, 2].map((i) => op(g, 'Gather', [perm.name, addInts(g, `${path}.index`, [], [i])], path, 4, { axis: 0 })) as [Value, Value, Value];
  const scaled = op(g, 'Mul', [q.name, scalar(g, `${path}.scale`, 1 / Math.sqrt(dim / heads))], path, 4);
  const scores = op(g, 'MatMul', [scaled.name, op(g, 'Transpose', [k.name], path, 4, { perm: [0, 1, 3, 2] }).name], path, 4);
  const weights = op(g, 'Softmax', [scores.name], path, 4, { axis: -1 });
  const out = op(g, 'Transpose', [op(g, 'MatMul', [weights.name, v.name], path, 4).name], path, 4, { perm: [0, 2, 1, 3] });
  return op(g, 'Reshape', [out.name, addInts(g, `${path}.out_shape`, [3], [0, 0, dim])], path, 3);
}

const emitMultiheadAttention: TransformerEmitter<MultiheadAttention> = (g, m, path, x, emit) => {
  const w = tidy(() => g.addTensor(`${path}.in_proj_weight_t`, m.inProjWeight.transpose(0, 1)));
  let qkv = op(g, 'MatMul', [x.name, w], path, 3);
  const b = m.inProjBias;
  if (b !== null) qkv = op(g, 'Add', [qkv.name, tidy(() => g.addTensor(`${path}.in_proj_bias`, b))], path, 3);
  return emit(m.getSubmodule('out_proj'), `${path}.out_proj`, attention(g, path, qkv, m.numHeads, m.embedDim));
};

const emitSelfAttention: TransformerEmitter<SelfAttention> = (g, m, path, x, emit) => {
  const qkvLayer = m.getSubmodule('qkv') as Linear;
  const qkv = emit(qkvLayer, `${path}.qkv`, x);
  return emit(m.getSubmodule('proj'), `${path}.proj`, attention(g, path, qkv, m.numHeads, qkvLayer.inFeatures));
};

const emitLayerScale: TransformerEmitter<LayerScale> = (g, m, path, x) => op(g, 'Mul', [x.name, tidy(() => g.addTensor(`${path}.gamma`, m.gamma))], path, x.rank);

/** A conv's [N, D, h, w] output as tokens [N, h·w, D]. */
function tokensOf(g: GraphBuilder, path: string, maps: Value, dim: number): Value {
  const flat = op(g, 'Reshape', [maps.name, addInts(g, `${path}.flat_shape`, [3], [0, dim, -1])], path, 3);
  return op(g, 'Transpose', [flat.name], path, 3, { perm: [0, 2, 1] });
}

const emitPatchEmbed: TransformerEmitter<PatchEmbed> = (g, m, path, x, emit) => tokensOf(g, path, emit(m.proj, `${path}.proj`, x), m.proj.outChannels);

/** [class token; tokens] + position embedding, the class token ([1, 1, D]) repeated over the batch. */
function withClassToken(g: GraphBuilder, path: string, tokens: Value, cls: Tensor, pos: Tensor): Value {
  const dim = cls.size(2);
  const batch = op(g, 'Slice', [g.node('Shape', [tokens.name], path), addInts(g, `${path}.start`, [1], [0]), addInts(g, `${path}.end`, [1], [1])], path, 1);
  const shape = op(g, 'Concat', [batch.name, addInts(g, `${path}.cls_shape`, [2], [1, dim])], path, 1, { axis: 0 });
  const clsRows = op(g, 'Expand', [tidy(() => g.addTensor(`${path}.class_token`, cls)), shape.name], path, 3);
  const joined = op(g, 'Concat', [clsRows.name, tokens.name], path, 3, { axis: 1 });
  return op(g, 'Add', [joined.name, tidy(() => g.addTensor(`${path}.position_embedding`, pos))], path, 3);
}

/** x[:, 0]: the class token of each image. */
const classToken = (g: GraphBuilder, path: string, x: Value): Value => op(g, 'Gather', [x.name, addInts(g, `${path}.cls_index`, [], [0])], path, 2, { axis: 1 });

const param = (m: Module, name: string): Tensor => {
  const t = m.namedParameters().get(name);
  if (t === undefined) throw new TlcvError('MODEL', `internal: ${m.constructor.name} has no parameter ${name}`);
  return t;
};

/** layer_scale · block(x) + x; stochastic depth is the identity at inference. */
const emitCNBlock: TransformerEmitter<CNBlock> = (g, m, path, x, emit) => {
  const body = emit(m.getSubmodule('block'), `${path}.block`, x);
  const scaled = op(g, 'Mul', [tidy(() => g.addTensor(`${path}.layer_scale`, m.layerScale)), body.name], path, 4);
  return op(g, 'Add', [scaled.name, x.name], path, 4);
};

const emitVisionTransformer: TransformerEmitter<VisionTransformer> = (g, m, path, x, emit) => {
  const tokens = tokensOf(g, 'conv_proj', emit(m.getSubmodule('conv_proj') as Conv2d, 'conv_proj', x), m.hidden);
  let h = withClassToken(g, 'encoder', tokens, param(m, 'class_token'), param(m, 'encoder.pos_embedding'));
  h = emit(m.getSubmodule('encoder.layers'), 'encoder.layers', h);
  h = emit(m.getSubmodule('encoder.ln'), 'encoder.ln', h);
  return emit(m.getSubmodule('heads'), 'heads', classToken(g, 'heads', h));
};

/** Tokens with the position embedding for the exported input size (computed now), blocks, norm, [class token; mean patch token], head. */
const emitDinoVisionTransformer: TransformerEmitter<DinoVisionTransformer> = (g, m, path, x, emit) => {
  const tokens = emit(m.getSubmodule('patch_embed'), 'patch_embed', x);
  const [, h, w] = m.config.inputSize;
  const pos = noGrad(() => tidy(() => m.positionEmbedding(h, w, 'float32').clone().keep()));
  let t: Value;
  try {
    t = withClassToken(g, 'embed', tokens, param(m, 'cls_token'), pos);
  } finally {
    pos.dispose();
  }
  t = emit(m.getSubmodule('norm'), 'norm', emit(m.getSubmodule('blocks'), 'blocks', t));
  const patches = op(g, 'Slice', [t.name, addInts(g, 'pool.start', [1], [1]), addInts(g, 'pool.end', [1], [Number.MAX_SAFE_INTEGER]), addInts(g, 'pool.axes', [1], [1])], 'pool', 3);
  const mean = op(g, 'ReduceMean', [patches.name], 'pool', 2, { axes: [1], keepdims: 0 });
  const pooled = op(g, 'Concat', [classToken(g, 'pool', t).name, mean.name], 'pool', 2, { axis: 1 });
  return emit(m.getSubmodule('head'), 'head', pooled);
};

const identity: TransformerEmitter<Module> = (_g, _m, _path, x) => x;

/** Module kinds and their emitters; LayerNorm2d before LayerNorm, which it extends. */
export const TRANSFORMER_EMITTERS: [abstract new (...args: never[]) => Module, TransformerEmitter<never>][] = [
  [LayerNorm2d, emitLayerNorm2d],
  [LayerNorm, emitLayerNorm],
  [GELU, emitGelu],
  [Permute, emitPermute],
  [MultiheadAttention, emitMultiheadAttention],
  [SelfAttention, emitSelfAttention],
  [LayerScale, emitLayerScale],
  [StochasticDepth, identity],
  [PatchEmbed, emitPatchEmbed],
  [CNBlock, emitCNBlock],
  [VisionTransformer, emitVisionTransformer],
  [DinoVisionTransformer, emitDinoVisionTransformer],
];
