/**
 * The Vision Transformer (Dosovitskiy et al., 2021) exactly as torchvision 0.14 builds it:
 * `conv_proj`, `class_token`, `encoder.pos_embedding`, `encoder.layers.encoder_layer_i` (ln_1,
 * self_attention as nn.MultiheadAttention, ln_2, mlp.0 and mlp.3), `encoder.ln`, `heads.head`,
 * with the same construction order and init, so a seed gives torchvision's weights and its
 * checkpoints load unchanged. Built for one input size, like torchvision's: the position
 * embedding has one row per patch of that size (pretrained weights are interpolated to it).
 */
import { TlcvError } from '../errors.js';
import { Conv2d, Dropout, GELU, LayerNorm, Linear, Module, MultiheadAttention, Sequential, init, patchTokens } from '../nn/index.js';
import { F, cat, invoke, tidy, zeros, type Tensor } from '../tensor/index.js';
import { ClassifierModel, type ModelConfig, type Stage } from './classifier.js';
import { residual, type ForwardStep } from './forward-spec.js';
import { IMAGENET_STATS } from './torchvision-common.js';

const EPS = 1e-6;

/** Linear, GELU, Dropout, Linear, Dropout (torchvision's MLPBlock: children 0 to 4), with its init. */
function mlpBlock(dim: number, mlpDim: number, dropout: number): Sequential {
  const mlp = new Sequential([new Linear(dim, mlpDim), new GELU(), new Dropout(dropout), new Linear(mlpDim, dim), new Dropout(dropout)]);
  for (const m of mlp.children()) {
    if (!(m instanceof Linear)) continue;
    init.xavierUniform_(m.weight);
    init.normal_(m.bias!, 0, 1e-6);
  }
  return mlp;
}

/** Pre-norm attention and MLP, each added to its input: torchvision's EncoderBlock. */
export class EncoderBlock extends Module {
  constructor(heads: number, dim: number, mlpDim: number, dropout: number, attentionDropout: number) {
    super();
    this.registerModule('ln_1', new LayerNorm(dim, { eps: EPS }));
    this.registerModule('self_attention', new MultiheadAttention(dim, heads, { dropout: attentionDropout }));
    this.registerModule('dropout', new Dropout(dropout));
    this.registerModule('ln_2', new LayerNorm(dim, { eps: EPS }));
    this.registerModule('mlp', mlpBlock(dim, mlpDim, dropout));
  }

  forward(input: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    const x = m('dropout').forward(m('self_attention').forward(m('ln_1').forward(input))).add(input);
    return x.add(m('mlp').forward(m('ln_2').forward(x)));
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return [residual(['ln_1', 'self_attention', 'dropout']), residual(['ln_2', 'mlp'])];
  }
}

/** Position embedding, dropout, the blocks and the final norm: torchvision's Encoder. */
export class Encoder extends Module {
  constructor(seqLength: number, layers: number, heads: number, dim: number, mlpDim: number, dropout: number, attentionDropout: number) {
    super();
    // Drawn here, before the blocks, as torchvision does ("from BERT").
    this.registerParameter('pos_embedding', init.normal_(zeros([1, seqLength, dim]), 0, 0.02));
    this.registerModule('dropout', new Dropout(dropout));
    const blocks: Record<string, Module> = {};
    for (let i = 0; i < layers; i += 1) blocks[`encoder_layer_${i}`] = new EncoderBlock(heads, dim, mlpDim, dropout, attentionDropout);
    this.registerModule('layers', new Sequential(blocks));
    this.registerModule('ln', new LayerNorm(dim, { eps: EPS }));
  }

  /** input + position embedding, then dropout: what the blocks take. */
  embed(tokens: Tensor): Tensor {
    return this.child('dropout').forward(tokens.add(this.param('pos_embedding')));
  }

  forward(tokens: Tensor): Tensor {
    return this.child('ln').forward(this.child('layers').forward(this.embed(tokens)));
  }
}


/** torchvision's ViT_B_16_Weights.IMAGENET1K_V1: resize 256 (bilinear), centre crop 224. */
export const VIT_CONFIGS: ModelConfig[] = [
  {
    name: 'vit_b_16',
    arch: 'vit',
    inputSize: [3, 224, 224],
    minInputSize: [3, 16, 16],
    ...IMAGENET_STATS,
    cropPct: 224 / 256,
    interpolation: 'bilinear',
    firstConv: 'conv_proj',
    classifier: 'heads.head',
    numClasses: 1000,
    options: { patchSize: 16, layers: 12, heads: 12, hidden: 768, mlpDim: 3072, dropout: 0, attentionDropout: 0 },
    pretrained: { url: 'https://download.pytorch.org/models/vit_b_16-c867db91.pth', sha256: 'c867db91', file: 'vit_b_16-c867db91.pth' },
  },
];

/**
 * Throws the user error for an input size a patch grid does not tile, suggesting the next size that does.
 *
 * @example
 * checkPatchGrid('vit_b_16', 16, [28, 28]); // throws: ... (--input-size 32x32, for one)
 */
export function checkPatchGrid(name: string, patch: number, [h, w]: [number, number]): void {
  if (h % patch === 0 && w % patch === 0) return;
  const up = (v: number): number => Math.ceil(v / patch) * patch;
  throw new TlcvError('ARGUMENT', `${name} cuts images into ${patch}x${patch} patches: its input size must be a multiple of ${patch} on each side, got ${h}x${w} (--input-size ${up(h)}x${up(w)}, for one)`);
}

/** The class token of each image: x[:, 0]. */
const classToken = (x: Tensor): Tensor => invoke('select.int', [x, 1, 0]) as Tensor;

export class VisionTransformer extends ClassifierModel {
  readonly patchSize: number;
  readonly hidden: number;
  /** The patch grid the position embedding is for: [rows, columns]. */
  readonly grid: [number, number];

  constructor(config: ModelConfig) {
    super(config);
    const o = config.options;
    const p = Number(o.patchSize);
    const [c, h, w] = config.inputSize;
    checkPatchGrid(config.name, p, [h, w]);
    this.patchSize = p;
    this.hidden = Number(o.hidden);
    this.grid = [h / p, w / p];
    const dropout = Number(o.dropout ?? 0);
    this.registerModule('conv_proj', new Conv2d(c, this.hidden, p, { stride: p }));
    this.registerParameter('class_token', zeros([1, 1, this.hidden]));
    this.registerModule('encoder', new Encoder(this.grid[0] * this.grid[1] + 1, Number(o.layers), Number(o.heads), this.hidden, Number(o.mlpDim), dropout, Number(o.attentionDropout ?? 0)));
    this.registerModule('heads', new Sequential({ head: new Linear(this.hidden, config.numClasses) }));
    // The patchify stem: truncated normal with std sqrt(1 / fan_in); the head starts at zero.
    const conv = this.child<Conv2d>('conv_proj');
    init.truncNormal_(conv.weight, 0, Math.sqrt(1 / (c * p * p)));
    init.zeros_(conv.bias!);
    this.zeroHead(this.getSubmodule('heads.head') as Linear);
  }

  private zeroHead(fc: Linear): void {
    init.zeros_(fc.weight);
    init.zeros_(fc.bias!);
  }

  /** Only the size the position embedding was built for, as torchvision's ViT. */
  override checkInput(x: Tensor): void {
    super.checkInput(x);
    const [, , h, w] = x.shape;
    const [, eh, ew] = this.config.inputSize;
    if (h !== eh || w !== ew) {
      throw new TlcvError('ARGUMENT', `Expected input [N, ${this.config.inputSize.join(', ')}] for ${this.config.name} (its position embedding is for ${eh}x${ew} images) but received [${x.shape.join(', ')}]`);
    }
  }

  /** Patch tokens with the class token in front: [N, 1 + patches, hidden]. */
  tokens(x: Tensor): Tensor {
    const t = patchTokens(this.child<Conv2d>('conv_proj'), x);
    return cat([this.param('class_token').expand([t.size(0), -1, -1]), t], 1);
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('encoder').forward(this.tokens(x));
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('heads').forward(classToken(features));
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.hidden, numClasses);
    this.zeroHead(fc);
    return fc;
  }

  /**
   * The embedding, one stage per encoder block, and the final norm with the head: with
   * `--lr-decay d`, block i of L trains at lr·d^(L-i) and the embedding at lr·d^(L+1), the
   * layer-wise decay of BEiT and timm (their final norm shares the head's rate).
   */
  stages(): Stage[] {
    const encoder = this.child<Encoder>('encoder');
    const layers = encoder.getSubmodule('layers') as Sequential;
    return [
      { name: 'embedding', prefixes: ['conv_proj', 'class_token', 'encoder.pos_embedding'], forward: (x: Tensor) => encoder.embed(this.tokens(x)) },
      ...[...layers.namedChildren()].map(([name, block], i): Stage => ({ name: `block${i}`, prefixes: [`encoder.layers.${name}`], forward: (x: Tensor) => block.forward(x) })),
      { name: 'head', prefixes: ['encoder.ln', 'heads'], forward: (x: Tensor) => this.forwardHead(encoder.getSubmodule('ln').forward(x)) },
    ];
  }

  /**
   * A pretrained position embedding for another patch grid, interpolated to this model's as
   * torchvision's interpolate_embeddings does it (bicubic, align_corners, the class token's row
   * kept), generalised to grids that are not square.
   */
  override adaptPretrainedTensor(key: string, theirs: Tensor): { tensor: Tensor; how: string } | null {
    if (key !== 'encoder.pos_embedding' || theirs.ndim !== 3 || theirs.size(0) !== 1 || theirs.size(2) !== this.hidden) return null;
    const side = Math.round(Math.sqrt(theirs.size(1) - 1));
    if (side * side !== theirs.size(1) - 1) return null;
    const [gh, gw] = this.grid;
    const tensor = tidy(() => {
      const t = theirs.float();
      const grid = t.narrow(1, 1, side * side).permute([0, 2, 1]).reshape([1, this.hidden, side, side]);
      const resized = F.interpolate(grid, { size: [gh, gw], mode: 'bicubic', alignCorners: true }).reshape([1, this.hidden, gh * gw]).permute([0, 2, 1]);
      return cat([t.narrow(1, 0, 1), resized], 1).to(theirs.dtype);
    });
    return { tensor, how: `interpolated from a ${side}x${side} patch grid to ${gh}x${gw} (bicubic, as torchvision's interpolate_embeddings)` };
  }
}
