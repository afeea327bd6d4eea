/**
 * ConvNeXt (Liu et al., 2022) exactly as torchvision 0.14 builds it: the same module names
 * (`features.1.0.block.3.weight`, `features.1.0.layer_scale`), construction order and init
 * (truncated normal, std 0.02, for every conv and linear weight), so a seed gives torchvision's
 * weights and its checkpoints load unchanged.
 */
import { AdaptiveAvgPool2d, Conv2d, Flatten, GELU, LayerNorm, LayerNorm2d, Linear, Module, Permute, Sequential, StochasticDepth, init, layerScaleTensor } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import type { ForwardStep } from './forward-spec.js';
import { IMAGENET_STATS } from './torchvision-common.js';

const EPS = 1e-6;

/**
 * depthwise 7x7 conv, LayerNorm over channels (channels-last), Linear to 4x, GELU, Linear back,
 * times the layer scale, through stochastic depth, plus the input: torchvision's CNBlock.
 */
export class CNBlock extends Module {
  constructor(dim: number, layerScale: number, stochasticDepthProb: number) {
    super();
    this.registerModule(
      'block',
      new Sequential([
        new Conv2d(dim, dim, 7, { padding: 3, groups: dim }),
        new Permute([0, 2, 3, 1]),
        new LayerNorm(dim, { eps: EPS }),
        new Linear(dim, 4 * dim),
        new GELU(),
        new Linear(4 * dim, dim),
        new Permute([0, 3, 1, 2]),
      ]),
    );
    this.registerParameter('layer_scale', layerScaleTensor(dim, layerScale, 'channels-first'));
    this.registerModule('stochastic_depth', new StochasticDepth(stochasticDepthProb, 'row'));
  }

  get layerScale(): Tensor {
    return this.param('layer_scale');
  }

  forward(x: Tensor): Tensor {
    return this.child('stochastic_depth').forward(this.layerScale.mul(this.child('block').forward(x))).add(x);
  }
}


function convnextConfig(name: string, depths: number[], stochasticDepth: number, resize: number, file: string): ModelConfig {
  return {
    name,
    arch: 'convnext',
    inputSize: [3, 224, 224],
    minInputSize: [3, 32, 32],
    ...IMAGENET_STATS,
    // The DEFAULT weights' transforms: resize `resize` (bilinear), centre crop 224.
    cropPct: 224 / resize,
    interpolation: 'bilinear',
    firstConv: 'features.0.0',
    classifier: 'classifier.2',
    numClasses: 1000,
    options: { depths, dims: [96, 192, 384, 768], stochasticDepth, layerScale: 1e-6 },
    pretrained: { url: `https://download.pytorch.org/models/${file}`, sha256: file.slice(-12, -4), file },
  };
}

/** torchvision's IMAGENET1K_V1 weights (sha256: the 8-hex prefix in the file name). */
export const CONVNEXT_CONFIGS: ModelConfig[] = [
  convnextConfig('convnext_tiny', [3, 3, 9, 3], 0.1, 236, 'convnext_tiny-983f1562.pth'),
  convnextConfig('convnext_small', [3, 3, 27, 3], 0.4, 230, 'convnext_small-0c510722.pth'),
];

export class ConvNeXt extends ClassifierModel {
  readonly featureChannels: number;

  constructor(config: ModelConfig) {
    super(config);
    const depths = config.options.depths as number[];
    const dims = config.options.dims as number[];
    const sdProb = Number(config.options.stochasticDepth ?? 0);
    const layerScale = Number(config.options.layerScale ?? 1e-6);
    const layers: Module[] = [new Sequential([new Conv2d(config.inputSize[0], dims[0]!, 4, { stride: 4 }), new LayerNorm2d(dims[0]!, { eps: EPS })])];
    const total = depths.reduce((a, b) => a + b, 0);
    let blockId = 0;
    depths.forEach((depth, i) => {
      const blocks: Module[] = [];
      for (let b = 0; b < depth; b += 1) {
        // The drop rate grows linearly with the block's depth, from 0 to stochasticDepth.
        blocks.push(new CNBlock(dims[i]!, layerScale, (sdProb * blockId) / (total - 1)));
        blockId += 1;
      }
      layers.push(new Sequential(blocks));
      const next = dims[i + 1];
      if (next !== undefined) layers.push(new Sequential([new LayerNorm2d(dims[i]!, { eps: EPS }), new Conv2d(dims[i]!, next, 2, { stride: 2 })]));
    });
    this.featureChannels = dims[dims.length - 1]!;
    this.registerModule('features', new Sequential(layers));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('classifier', new Sequential([new LayerNorm2d(this.featureChannels, { eps: EPS }), new Flatten(1), new Linear(this.featureChannels, config.numClasses)]));
    for (const m of this.namedModules().values()) initLayer(m);
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('features').forward(x);
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('classifier').forward(this.child('avgpool').forward(features));
  }

  /** features, pooling and classifier as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['features', 'avgpool', 'classifier'];
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.featureChannels, numClasses);
    initLayer(fc);
    return fc;
  }

  /** stem, the four stages (each with the downsampling before it, as timm groups them), head (norm + linear). */
  stages(): Stage[] {
    const f = this.child<Sequential>('features').children();
    const stage = (i: number, idx: number[]): Stage => chainStage(`stage${i}`, idx.map((j) => `features.${j}`), idx.map((j) => f[j]!));
    return [
      chainStage('stem', ['features.0'], [f[0]!]),
      stage(1, [1]),
      ...[1, 2, 3].map((k) => stage(k + 1, [2 * k, 2 * k + 1])),
      { name: 'head', prefixes: ['classifier'], forward: (x: Tensor) => this.forwardHead(x) },
    ];
  }
}

/** torchvision's ConvNeXt init for one layer. */
function initLayer(m: Module): void {
  if (m instanceof Conv2d || m instanceof Linear) {
    init.truncNormal_(m.weight, 0, 0.02);
    if (m.bias !== null) init.zeros_(m.bias);
  }
}
