/**
 * Scaled dot-product attention, softmax(q kᵀ / √d) v, through libtorch's fused op where the
 * installed libtorch has one, else as matmul, softmax, matmul. The op is looked up in the
 * dispatcher's schema table once: libtorch 2.x registers `aten::scaled_dot_product_attention`
 * (flash and memory-efficient kernels on CUDA, a fused CPU kernel from 2.1), libtorch 1.13 only the
 * private `aten::_scaled_dot_product_attention`, which returns (output, weights) and computes the
 * same three steps on the CPU. Both forms give the same numbers to float32 rounding (tested).
 */
import { argumentError } from '../errors.js';
import { F, invoke, opExists, type Tensor } from '../tensor/index.js';

/** 'fused': libtorch's own op; 'matmul': matmul, softmax, matmul in TS. */
export type AttentionPath = 'fused' | 'matmul';

interface FusedOp {
  name: string;
  /** 1.13's private op returns (output, attention weights). */
  returnsWeights: boolean;
}

let fused: FusedOp | null | undefined;

function fusedOp(): FusedOp | null {
  if (fused === undefined) {
    if (opExists('scaled_dot_product_attention')) fused = { name: 'scaled_dot_product_attention', returnsWeights: false };
    else if (opExists('_scaled_dot_product_attention')) fused = { name: '_scaled_dot_product_attention', returnsWeights: true };
    else fused = null;
  }
  return fused;
}

/**
 * Which path attention takes with this libtorch, and through which op.
 *
 * @example
 * attentionPath(); // { path: 'fused', op: 'aten::_scaled_dot_product_attention' } on libtorch 1.13
 */
export function attentionPath(): { path: AttentionPath; op: string | null } {
  const op = fusedOp();
  return op === null ? { path: 'matmul', op: null } : { path: 'fused', op: `aten::${op.name}` };
}

export interface AttentionOptions {
  /** Dropout on the attention weights (applied only when > 0; pass 0 in eval mode). */
  dropoutP?: number;
  /** Force a path (tests compare them); default: fused when libtorch has it. */
  path?: AttentionPath;
}

/**
 * softmax(q kᵀ / √d) v for q, k, v [..., T, d] (batch and heads in front).
 *
 * @example
 * const out = scaledDotProductAttention(q, k, v, { dropoutP: this.training ? 0.1 : 0 });
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  const p = o.dropoutP ?? 0;
  if (!(p >= 0 && p < 1)) throw argumentError('attention dropout', 'a probability in [0, 1)', p);
  const op = o.path === 'matmul' ? null : fusedOp();
  if (o.path === 'fused' && op === null) throw argumentError('attention path', '"matmul" (this libtorch has no fused attention op)', o.path);
  if (op !== null) {
    if (!op.returnsWeights) return invoke(op.name, [q, k, v, null, p, false]) as Tensor;
    const [out, weights] = invoke(op.name, [q, k, v, null, p, false, false]) as [Tensor, Tensor | null];
    weights?.dispose();
    return out;
  }
  const d = q.size(-1);
  const attn = F.softmax(q.mul(1 / Math.sqrt(d)).matmul(k.transpose(-2, -1)), -1);
  return (p > 0 ? F.dropout(attn, p, true) : attn).matmul(v);
}

/**
 * Packed projections [B, T, 3E] (q, k, v side by side, as in_proj_weight and qkv compute them)
 * to q, k, v [B, heads, T, E / heads].
 *
 * @example
 * const [q, k, v] = splitHeads(F.linear(x, w, b), 12);
 */
export function splitHeads(qkv: Tensor, heads: number): [Tensor, Tensor, Tensor] {
  const [b, t, e3] = qkv.shape as [number, number, number];
  const parts = invoke('unbind.int', [qkv.view([b, t, 3, heads, e3 / 3 / heads]).permute([2, 0, 3, 1, 4]), 0]) as Tensor[];
  return [parts[0]!, parts[1]!, parts[2]!];
}

/** [B, heads, T, d] back to [B, T, heads·d]. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return x.transpose(1, 2).reshape([b, t, h * d]);
}
