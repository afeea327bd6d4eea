/** Self-attention in nn.MultiheadAttention's layout, as torchvision's ViT uses it (batch first). */
import { argumentError } from '../errors.js';
import { F, zeros, type Tensor } from '../tensor/index.js';
import { xavierUniform_, zeros_ } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { mergeHeads, scaledDotProductAttention, splitHeads } from './attention.js';

/**
 * Multi-head self-attention over tokens [N, T, E] with nn.MultiheadAttention's parameters:
 * `in_proj_weight` [3E, E] and `in_proj_bias` [3E] (q, k and v packed), `out_proj` (a Linear).
 * Built with its draws in PyTorch's order: out_proj's default init, then xavier-uniform for
 * in_proj_weight and zeros for both biases.
 *
 * @example
 * const attn = new MultiheadAttention(768, 12); // attn.forward(tokens): [N, T, 768]
 */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly dropout: number;

  constructor(embedDim: number, numHeads: number, o: { dropout?: number } = {}) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw argumentError('numHeads', `a positive divisor of embedDim ${embedDim}`, numHeads);
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.dropout = o.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout < 1)) throw argumentError('attention dropout', 'a probability in [0, 1)', this.dropout);
    const inProjWeight = this.registerParameter('in_proj_weight', zeros([3 * embedDim, embedDim]))!;
    const inProjBias = this.registerParameter('in_proj_bias', zeros([3 * embedDim]))!;
    const outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim));
    // nn.MultiheadAttention._reset_parameters, after out_proj drew its default init.
    xavierUniform_(inProjWeight);
    zeros_(inProjBias);
    zeros_(outProj.bias!);
  }

  get inProjWeight(): Tensor {
    return this.param('in_proj_weight');
  }
  get inProjBias(): Tensor | null {
    return this.optionalParam('in_proj_bias');
  }

  forward(x: Tensor): Tensor {
    const [q, k, v] = splitHeads(F.linear(x, this.inProjWeight, this.inProjBias), this.numHeads);
    const out = scaledDotProductAttention(q, k, v, { dropoutP: this.training ? this.dropout : 0 });
    return this.child<Linear>('out_proj').forward(mergeHeads(out));
  }
}
