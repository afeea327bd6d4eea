/** Self-attention in timm's and DINOv2's layout: `qkv` and `proj` linear layers. */
import { argumentError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import { Dropout } from './basic.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { mergeHeads, scaledDotProductAttention, splitHeads } from './attention.js';

export interface SelfAttentionOptions {
  qkvBias?: boolean;
  projBias?: boolean;
  /** Dropout on the attention weights while training. */
  attnDrop?: number;
  /** Dropout after the output projection (the `proj_drop` child). */
  projDrop?: number;
}

/**
 * Multi-head self-attention over tokens [N, T, D]: `qkv` (Linear D → 3D), attention per head,
 * `proj` (Linear D → D), as DINOv2's Attention names them (`blocks.0.attn.qkv.weight`).
 *
 * @example
 * const attn = new SelfAttention(384, 6, { qkvBias: true });
 */
export class SelfAttention extends Module {
  readonly numHeads: number;
  readonly attnDrop: number;

  constructor(dim: number, numHeads: number, o: SelfAttentionOptions = {}) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || dim % numHeads !== 0) throw argumentError('numHeads', `a positive divisor of dim ${dim}`, numHeads);
    this.numHeads = numHeads;
    this.attnDrop = o.attnDrop ?? 0;
    if (!(this.attnDrop >= 0 && this.attnDrop < 1)) throw argumentError('attention dropout', 'a probability in [0, 1)', this.attnDrop);
    this.registerModule('qkv', new Linear(dim, 3 * dim, { bias: o.qkvBias ?? false }));
    this.registerModule('proj', new Linear(dim, dim, { bias: o.projBias ?? true }));
    this.registerModule('proj_drop', new Dropout(o.projDrop ?? 0));
  }

  forward(x: Tensor): Tensor {
    const [q, k, v] = splitHeads(this.child('qkv').forward(x), this.numHeads);
    const out = scaledDotProductAttention(q, k, v, { dropoutP: this.training ? this.attnDrop : 0 });
    return this.child('proj_drop').forward(this.child('proj').forward(mergeHeads(out)));
  }
}
