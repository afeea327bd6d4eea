/**
 * DINOv2's ViT-S/14 and ViT-B/14 (Oquab et al., 2023) in the official checkpoint's layout:
 * `cls_token`, `pos_embed`, `mask_token`, `patch_embed.proj`, `blocks.i.{norm1, attn.qkv,
 * attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}`, `norm`, as facebookresearch/dinov2
 * builds them for torch.hub (img_size 518, layer scale 1.0, no register tokens, unchunked blocks),
 * so the published files load with no missing or unexpected key. Written from the paper and that
 * layout; checked against a PyTorch reference (peers/dinov2_reference.py).
 *
 * The head is DINOv2's linear evaluation: a Linear on the class token concatenated with the mean
 * patch token, both after the final norm. The position embedding is for a 37x37 grid (518 px) and
 * is interpolated to each input's grid as the official code does it (bicubic, with its 0.1 offset).
 */
import { TlcvError } from '../errors.js';
import { Dropout, GELU, Identity, LayerNorm, LayerScale, Linear, Module, PatchEmbed, SelfAttention, Sequential, StochasticDepth, init } from '../nn/index.js';
import { F, cat, invoke, zeros, type Tensor } from '../tensor/index.js';
import { ClassifierModel, type ModelConfig, type Stage } from './classifier.js';
import { residual, type ForwardStep } from './forward-spec.js';
import { checkPatchGrid } from './vision-transformer.js';
import { IMAGENET_STATS } from './torchvision-common.js';

const EPS = 1e-6;

/** fc1, GELU, fc2 with dropout after each (DINOv2's Mlp; children fc1, act, fc2, drop). */
export class Mlp extends Module {
  constructor(dim: number, hidden: number, drop = 0) {
    super();
    this.registerModule('fc1', new Linear(dim, hidden));
    this.registerModule('act', new GELU());
    this.registerModule('fc2', new Linear(hidden, dim));
    this.registerModule('drop', new Dropout(drop));
  }

  forward(x: Tensor): Tensor {
    return this.forwardSpec().reduce((h: Tensor, name) => this.child(name).forward(h), x);
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): string[] {
    return ['fc1', 'act', 'drop', 'fc2', 'drop'];
  }
}

/** x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))), each branch through drop path: DINOv2's Block. */
export class DinoBlock extends Module {
  constructor(dim: number, heads: number, mlpRatio: number, initValues: number, dropPath: number) {
    super();
    this.registerModule('norm1', new LayerNorm(dim, { eps: EPS }));
    this.registerModule('attn', new SelfAttention(dim, heads, { qkvBias: true }));
    this.registerModule('ls1', initValues > 0 ? new LayerScale(dim, initValues) : new Identity());
    this.registerModule('drop_path1', new StochasticDepth(dropPath, 'row'));
    this.registerModule('norm2', new LayerNorm(dim, { eps: EPS }));
    this.registerModule('mlp', new Mlp(dim, Math.trunc(dim * mlpRatio)));
    this.registerModule('ls2', initValues > 0 ? new LayerScale(dim, initValues) : new Identity());
    this.registerModule('drop_path2', new StochasticDepth(dropPath, 'row'));
  }

  forward(input: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    const x = input.add(m('drop_path1').forward(m('ls1').forward(m('attn').forward(m('norm1').forward(input)))));
    return x.add(m('drop_path2').forward(m('ls2').forward(m('mlp').forward(m('norm2').forward(x)))));
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return [residual(['norm1', 'attn', 'ls1', 'drop_path1']), residual(['norm2', 'mlp', 'ls2', 'drop_path2'])];
  }
}

const BASE_URL = 'https://dl.fbaipublicfiles.com/dinov2';

function dinoConfig(name: string, embedDim: number, heads: number): ModelConfig {
  const file = `${name}_pretrain.pth`;
  return {
    name,
    arch: 'dinov2',
    inputSize: [3, 224, 224],
    minInputSize: [3, 14, 14],
    ...IMAGENET_STATS,
    // DINOv2's evaluation transform: resize 256 (bicubic), centre crop 224.
    cropPct: 224 / 256,
    interpolation: 'bicubic',
    firstConv: 'patch_embed.proj',
    classifier: 'head',
    numClasses: 1000,
    options: { patchSize: 14, embedDim, depth: 12, heads, mlpRatio: 4, imgSize: 518, initValues: 1, dropPath: 0, interpolateOffset: 0.1 },
    // Meta publishes no checksum for these files; what a download can be checked by is that its
    // state dict fits this layout exactly (every key and shape), which loading does.
    pretrained: { url: `${BASE_URL}/${name}/${file}`, sha256: null, file, backboneOnly: true },
  };
}

export const DINOV2_CONFIGS: ModelConfig[] = [dinoConfig('dinov2_vits14', 384, 6), dinoConfig('dinov2_vitb14', 768, 12)];

export class DinoVisionTransformer extends ClassifierModel {
  readonly patchSize: number;
  readonly embedDim: number;
  readonly interpolateOffset: number;

  constructor(config: ModelConfig) {
    super(config);
    const o = config.options;
    const p = Number(o.patchSize);
    const d = Number(o.embedDim);
    const depth = Number(o.depth);
    const [c, h, w] = config.inputSize;
    checkPatchGrid(config.name, p, [h, w]);
    this.patchSize = p;
    this.embedDim = d;
    this.interpolateOffset = Number(o.interpolateOffset ?? 0.1);
    const grid = Math.floor(Number(o.imgSize) / p);
    this.registerModule('patch_embed', new PatchEmbed(c, d, p));
    const cls = this.registerParameter('cls_token', zeros([1, 1, d]))!;
    const pos = this.registerParameter('pos_embed', zeros([1, grid * grid + 1, d]))!;
    const dropPath = Number(o.dropPath ?? 0);
    const blocks: Module[] = [];
    // The drop rate grows linearly over the blocks, from 0 to dropPath (np.linspace).
    for (let i = 0; i < depth; i += 1) blocks.push(new DinoBlock(d, Number(o.heads), Number(o.mlpRatio), Number(o.initValues), depth > 1 ? (dropPath * i) / (depth - 1) : 0));
    this.registerModule('blocks', new Sequential(blocks));
    this.registerModule('norm', new LayerNorm(d, { eps: EPS }));
    this.registerModule('head', new Linear(2 * d, config.numClasses));
    // A parameter in the official model, used only by its masked-image pretraining (iBOT): here it
    // never takes a gradient, and as a trainable parameter it would stop data-parallel training
    // (every trainable parameter must get one). A buffer keeps its name, shape and place in the state dict.
    this.registerBuffer('mask_token', zeros([1, d]));
    // DinoVisionTransformer.init_weights: then every Linear as timm's ViT (truncated normal, std 0.02).
    init.truncNormal_(pos, 0, 0.02);
    init.normal_(cls, 0, 1e-6);
    for (const m of this.namedModules().values()) {
      if (!(m instanceof Linear)) continue;
      init.truncNormal_(m.weight, 0, 0.02);
      if (m.bias !== null) init.zeros_(m.bias);
    }
    this.initHead(this.child<Linear>('head'));
  }

  /** DINOv2's linear evaluation head init: N(0, 0.01²) weights, zero bias. */
  private initHead(fc: Linear): void {
    init.normal_(fc.weight, 0, 0.01);
    init.zeros_(fc.bias!);
  }

  /** Any size whose sides are multiples of the patch size (the position embedding is interpolated). */
  override checkInput(x: Tensor): void {
    super.checkInput(x);
    const [, , h, w] = x.shape;
    if (h! % this.patchSize !== 0 || w! % this.patchSize !== 0) {
      throw new TlcvError('ARGUMENT', `Expected input [N, ${this.config.inputSize[0]}, H, W] with H and W multiples of ${this.patchSize} for ${this.config.name} but received [${x.shape.join(', ')}]`);
    }
  }

  /**
   * The position embedding for an h x w input, as DinoVisionTransformer.interpolate_pos_encoding
   * computes it: unchanged for its own grid and a square input, else bicubic with scale factors
   * (grid + offset) / M, the 0.1 offset the published models were trained with.
   */
  positionEmbedding(h: number, w: number, dtype: Tensor['dtype']): Tensor {
    const pos = this.param('pos_embed');
    const n = pos.size(1) - 1;
    const [gh, gw] = [Math.floor(h / this.patchSize), Math.floor(w / this.patchSize)];
    if (gh * gw === n && h === w) return pos;
    const m = Math.round(Math.sqrt(n));
    const d = this.embedDim;
    const grid = pos.float().narrow(1, 1, n).reshape([1, m, m, d]).permute([0, 3, 1, 2]);
    const off = this.interpolateOffset;
    const resized = off > 0 ? F.interpolate(grid, { scaleFactor: [(gh + off) / m, (gw + off) / m], mode: 'bicubic' }) : F.interpolate(grid, { size: [gh, gw], mode: 'bicubic' });
    if (resized.size(2) !== gh || resized.size(3) !== gw) throw new TlcvError('MODEL', `internal: position embedding resized to ${resized.size(2)}x${resized.size(3)}, not ${gh}x${gw}`);
    return cat([pos.float().narrow(1, 0, 1), resized.permute([0, 2, 3, 1]).reshape([1, gh * gw, d])], 1).to(dtype);
  }

  /** Patch tokens with the class token in front, plus the position embedding: [N, 1 + patches, D]. */
  prepareTokens(x: Tensor): Tensor {
    const t = this.child('patch_embed').forward(x);
    const tokens = cat([this.param('cls_token').expand([t.size(0), -1, -1]), t], 1);
    return tokens.add(this.positionEmbedding(x.size(2), x.size(3), tokens.dtype));
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('norm').forward(this.child('blocks').forward(this.prepareTokens(x)));
  }

  /** The class token and the mean patch token, side by side, into the head. */
  forwardHead(features: Tensor): Tensor {
    const cls = invoke('select.int', [features, 1, 0]) as Tensor;
    const patches = features.narrow(1, 1, features.size(1) - 1).mean(1);
    return this.child('head').forward(cat([cls, patches], 1));
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(2 * this.embedDim, numClasses);
    this.initHead(fc);
    return fc;
  }

  /**
   * The embedding (patch embedding, class token, position embedding), one stage per
   * block, and the final norm with the head: `--lr-decay d` is then BEiT's and timm's layer-wise decay.
   */
  stages(): Stage[] {
    const blocks = this.child<Sequential>('blocks');
    return [
      { name: 'embedding', prefixes: ['cls_token', 'pos_embed', 'patch_embed'], forward: (x: Tensor) => this.prepareTokens(x) },
      ...[...blocks.namedChildren()].map(([name, block], i): Stage => ({ name: `block${i}`, prefixes: [`blocks.${name}`], forward: (x: Tensor) => block.forward(x) })),
      { name: 'head', prefixes: ['norm', 'head'], forward: (x: Tensor) => this.forwardHead(this.child('norm').forward(x)) },
    ];
  }
}
