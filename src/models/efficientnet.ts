/**
 * EfficientNet B0-B3 and EfficientNetV2-S exactly as torchvision 0.14 builds them: MBConv
 * blocks (expand, depthwise, squeeze-excitation, project) and V2's FusedMBConv (one full conv
 * in place of expand + depthwise), SiLU throughout, stochastic depth on every residual block
 * with a probability growing linearly with depth. Module names, construction order and init
 * are torchvision's, so a seed gives torchvision's weights and its checkpoints load as they are.
 */
import { AdaptiveAvgPool2d, Dropout, Linear, Module, Sequential, SiLU, SqueezeExcitation, StochasticDepth, conv2dNormActivation, type BatchNorm2dOptions } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, residual, type ForwardStep } from './forward-spec.js';
import { makeDivisible } from './mobilenet-v2.js';
import { IMAGENET_STATS, initTorchvisionLayer, torchvisionWeights } from './torchvision-common.js';

/** One row of torchvision's inverted_residual_setting: [kind, expand ratio, kernel, stride, in, out, layers]. */
type BlockRow = ['mb' | 'fused', number, number, number, number, number, number];

interface Variant {
  rows: BlockRow[];
  widthMult: number;
  depthMult: number;
  dropout: number;
  /** Channels of the last 1x1 conv; null: 4x the last block's (the B models). */
  lastChannel: number | null;
  norm: BatchNorm2dOptions;
}

// EfficientNet paper, Table 1 (scaled by width and depth); EfficientNetV2 paper, Table 4.
const B_ROWS: BlockRow[] = [
  ['mb', 1, 3, 1, 32, 16, 1],
  ['mb', 6, 3, 2, 16, 24, 2],
  ['mb', 6, 5, 2, 24, 40, 2],
  ['mb', 6, 3, 2, 40, 80, 3],
  ['mb', 6, 5, 1, 80, 112, 3],
  ['mb', 6, 5, 2, 112, 192, 4],
  ['mb', 6, 3, 1, 192, 320, 1],
];
const V2_S_ROWS: BlockRow[] = [
  ['fused', 1, 3, 1, 24, 24, 2],
  ['fused', 4, 3, 2, 24, 48, 4],
  ['fused', 4, 3, 2, 48, 64, 4],
  ['mb', 4, 3, 2, 64, 128, 6],
  ['mb', 6, 3, 1, 128, 160, 9],
  ['mb', 6, 3, 2, 160, 256, 15],
];

const b = (widthMult: number, depthMult: number, dropout: number): Variant => ({ rows: B_ROWS, widthMult, depthMult, dropout, lastChannel: null, norm: {} });
const VARIANTS: Record<string, Variant> = {
  b0: b(1.0, 1.0, 0.2),
  b1: b(1.0, 1.1, 0.2),
  b2: b(1.1, 1.2, 0.3),
  b3: b(1.2, 1.4, 0.3),
  v2_s: { rows: V2_S_ROWS, widthMult: 1, depthMult: 1, dropout: 0.2, lastChannel: 1280, norm: { eps: 1e-3 } },
};

/** A block's settings once width and depth are applied (torchvision's MBConvConfig). */
interface BlockConfig {
  kind: 'mb' | 'fused';
  expandRatio: number;
  kernel: number;
  stride: number;
  inputChannels: number;
  outChannels: number;
}

const adjustChannels = (channels: number, widthMult: number): number => makeDivisible(channels * widthMult, 8);
const silu = (): Module => new SiLU(true);

/**
 * What MBConv and FusedMBConv share: `block`, then, when input and output shapes agree,
 * torchvision's `result = stochastic_depth(result); result += x`. The add is in place, as
 * there: on a BatchNorm's (or the drop's) output, which backward does not read.
 */
abstract class ResidualBlock extends Module {
  readonly useResidual: boolean;

  constructor(c: BlockConfig, layers: Module[], stochasticDepthProb: number) {
    super();
    this.useResidual = c.stride === 1 && c.inputChannels === c.outChannels;
    this.registerModule('block', new Sequential(layers));
    this.registerModule('stochastic_depth', new StochasticDepth(stochasticDepthProb, 'row'));
  }

  forward(x: Tensor): Tensor {
    const result = this.child('block').forward(x);
    return this.useResidual ? this.child('stochastic_depth').forward(result).add_(x) : result;
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return this.useResidual ? [residual(['block', 'stochastic_depth'])] : ['block'];
  }
}

/** Expand (1x1), depthwise (k x k), squeeze-excitation, project (1x1). */
export class MBConv extends ResidualBlock {
  constructor(c: BlockConfig, stochasticDepthProb: number, norm: BatchNorm2dOptions) {
    const expanded = adjustChannels(c.inputChannels, c.expandRatio);
    const layers: Module[] = [];
    if (expanded !== c.inputChannels) layers.push(conv2dNormActivation(c.inputChannels, expanded, 1, { norm, activation: silu }));
    layers.push(conv2dNormActivation(expanded, expanded, c.kernel, { stride: c.stride, groups: expanded, norm, activation: silu }));
    layers.push(new SqueezeExcitation(expanded, Math.max(1, Math.floor(c.inputChannels / 4)), { activation: silu }));
    layers.push(conv2dNormActivation(expanded, c.outChannels, 1, { norm, activation: null }));
    super(c, layers, stochasticDepthProb);
  }
}

/** EfficientNetV2's block: one full k x k conv expands (or maps straight to the output), then a 1x1 projects. */
export class FusedMBConv extends ResidualBlock {
  constructor(c: BlockConfig, stochasticDepthProb: number, norm: BatchNorm2dOptions) {
    const expanded = adjustChannels(c.inputChannels, c.expandRatio);
    const layers: Module[] =
      expanded !== c.inputChannels
        ? [
            conv2dNormActivation(c.inputChannels, expanded, c.kernel, { stride: c.stride, norm, activation: silu }),
            conv2dNormActivation(expanded, c.outChannels, 1, { norm, activation: null }),
          ]
        : [conv2dNormActivation(c.inputChannels, c.outChannels, c.kernel, { stride: c.stride, norm, activation: silu })];
    super(c, layers, stochasticDepthProb);
  }
}

function efficientnetConfig(name: string, variant: string, crop: number, resize: number, interpolation: 'bicubic' | 'bilinear', pretrained: ModelConfig['pretrained']): ModelConfig {
  return {
    name,
    arch: 'efficientnet',
    inputSize: [3, crop, crop],
    minInputSize: [3, 32, 32],
    ...IMAGENET_STATS,
    cropPct: crop / resize,
    interpolation,
    firstConv: 'features.0.0',
    classifier: 'classifier.1',
    numClasses: 1000,
    options: { variant, dropout: VARIANTS[variant]!.dropout, stochasticDepthProb: 0.2 },
    pretrained,
  };
}

/**
 * Each model's DEFAULT weights in torchvision 0.14 (B1's is IMAGENET1K_V2, the others'
 * IMAGENET1K_V1), with the crop, resize and kernel of their transforms. The 8 hex digits in the
 * names of the B0, B2 and B3 files (ported from timm) are not their sha256 (pytorch/vision
 * issue 7744; torchvision 0.16 renamed the files): these entries carry the files' full sha256,
 * as torchvision's own hash check reported it.
 */
export const EFFICIENTNET_CONFIGS: ModelConfig[] = [
  efficientnetConfig('efficientnet_b0', 'b0', 224, 256, 'bicubic', torchvisionWeights('efficientnet_b0_rwightman-3dd342df.pth', '7f5810bc96def8f7552d5b7e68d53c4786f81167d28291b21c0d90e1fca14934')),
  efficientnetConfig('efficientnet_b1', 'b1', 240, 255, 'bilinear', torchvisionWeights('efficientnet_b1-c27df63c.pth', 'c27df63c')),
  efficientnetConfig('efficientnet_b2', 'b2', 288, 288, 'bicubic', torchvisionWeights('efficientnet_b2_rwightman-bcdf34b7.pth', 'c35c147384e385a5bab5a8eabdabbe5a3df0487ee4a554108626ae474a5bf755')),
  efficientnetConfig('efficientnet_b3', 'b3', 300, 320, 'bicubic', torchvisionWeights('efficientnet_b3_rwightman-cf984f9c.pth', 'b3899882250c22946d0229d266049fcd133c169233530b36b9ffa7983988362f')),
  efficientnetConfig('efficientnet_v2_s', 'v2_s', 384, 384, 'bilinear', torchvisionWeights('efficientnet_v2_s-dd5fe13b.pth', 'dd5fe13b')),
];

export class EfficientNet extends ClassifierModel {
  readonly lastChannel: number;
  readonly #stageCount: number;

  constructor(config: ModelConfig) {
    super(config);
    const v = VARIANTS[String(config.options.variant)];
    if (v === undefined) throw new Error(`internal: unknown EfficientNet variant ${String(config.options.variant)}`);
    const rows = v.rows.map(([kind, expandRatio, kernel, stride, inp, out, layers]) => ({
      kind,
      expandRatio,
      kernel,
      stride,
      inputChannels: adjustChannels(inp, v.widthMult),
      outChannels: adjustChannels(out, v.widthMult),
      // V2's multipliers are 1: its rows are used as they are, as torchvision's FusedMBConvConfig does.
      layers: Math.ceil(layers * v.depthMult),
    }));
    const sdProb = Number(config.options.stochasticDepthProb ?? 0.2);
    const features: Module[] = [conv2dNormActivation(config.inputSize[0], rows[0]!.inputChannels, 3, { stride: 2, norm: v.norm, activation: silu })];
    const total = rows.reduce((n, r) => n + r.layers, 0);
    let blockId = 0;
    for (const r of rows) {
      const stage: Module[] = [];
      for (let i = 0; i < r.layers; i += 1) {
        const c: BlockConfig = { ...r, ...(i > 0 ? { inputChannels: r.outChannels, stride: 1 } : {}) };
        const p = (sdProb * blockId) / total;
        stage.push(r.kind === 'fused' ? new FusedMBConv(c, p, v.norm) : new MBConv(c, p, v.norm));
        blockId += 1;
      }
      features.push(new Sequential(stage));
    }
    const lastIn = rows[rows.length - 1]!.outChannels;
    this.lastChannel = v.lastChannel ?? 4 * lastIn;
    features.push(conv2dNormActivation(lastIn, this.lastChannel, 1, { norm: v.norm, activation: silu }));
    this.#stageCount = rows.length;
    this.registerModule('features', new Sequential(features));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('classifier', new Sequential([new Dropout(Number(config.options.dropout ?? v.dropout)), new Linear(this.lastChannel, config.numClasses)]));
    for (const m of this.namedModules().values()) initTorchvisionLayer(m, 'efficientnet');
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('features').forward(x);
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('classifier').forward(this.child('avgpool').forward(features).flatten(1));
  }

  /** features, pooling and classifier as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['features', 'avgpool', FLATTEN, 'classifier'];
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.lastChannel, numClasses);
    initTorchvisionLayer(fc, 'efficientnet');
    return fc;
  }

  /** stem, one stage per row of the settings (features.1 ...), the last 1x1 conv, head. */
  stages(): Stage[] {
    const f = this.child<Sequential>('features').children();
    const last = f.length - 1;
    const blocks = Array.from({ length: this.#stageCount }, (_, i) => chainStage(`stage${i + 1}`, [`features.${i + 1}`], [f[i + 1]!]));
    return [
      chainStage('stem', ['features.0'], [f[0]!]),
      ...blocks,
      chainStage('final_conv', [`features.${last}`], [f[last]!]),
      { name: 'head', prefixes: ['classifier'], forward: (x: Tensor) => this.forwardHead(x) },
    ];
  }
}
