/**
 * MobileNetV3 Small and Large exactly as torchvision 0.14 builds them: inverted residuals with
 * ReLU or Hardswish, squeeze-excitation gated by Hardsigmoid on some blocks, BatchNorm with
 * eps 0.001 and momentum 0.01, and a two-layer classifier. Module names, construction order and
 * init are torchvision's, so a seed gives torchvision's weights and its checkpoints load as they are.
 */
import { AdaptiveAvgPool2d, Dropout, Hardsigmoid, Hardswish, Linear, Module, ReLU, Sequential, SqueezeExcitation, conv2dNormActivation, type BatchNorm2dOptions } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, residual, type ForwardStep } from './forward-spec.js';
import { makeDivisible } from './mobilenet-v2.js';
import { IMAGENET_STATS, initTorchvisionLayer, torchvisionWeights } from './torchvision-common.js';

/** One row of the MobileNetV3 paper's Tables 1-2: [in, kernel, expanded, out, squeeze-excitation, 'RE' | 'HS', stride]. */
type BlockRow = [number, number, number, number, boolean, 'RE' | 'HS', number];

// torchvision's _mobilenet_v3_conf (width 1, no reduced tail, no dilation); lastChannel: C5.
const VARIANTS: Record<string, { rows: BlockRow[]; lastChannel: number }> = {
  large: {
    rows: [
      [16, 3, 16, 16, false, 'RE', 1],
      [16, 3, 64, 24, false, 'RE', 2],
      [24, 3, 72, 24, false, 'RE', 1],
      [24, 5, 72, 40, true, 'RE', 2],
      [40, 5, 120, 40, true, 'RE', 1],
      [40, 5, 120, 40, true, 'RE', 1],
      [40, 3, 240, 80, false, 'HS', 2],
      [80, 3, 200, 80, false, 'HS', 1],
      [80, 3, 184, 80, false, 'HS', 1],
      [80, 3, 184, 80, false, 'HS', 1],
      [80, 3, 480, 112, true, 'HS', 1],
      [112, 3, 672, 112, true, 'HS', 1],
      [112, 5, 672, 160, true, 'HS', 2],
      [160, 5, 960, 160, true, 'HS', 1],
      [160, 5, 960, 160, true, 'HS', 1],
    ],
    lastChannel: 1280,
  },
  small: {
    rows: [
      [16, 3, 16, 16, true, 'RE', 2],
      [16, 3, 72, 24, false, 'RE', 2],
      [24, 3, 88, 24, false, 'RE', 1],
      [24, 5, 96, 40, true, 'HS', 2],
      [40, 5, 240, 40, true, 'HS', 1],
      [40, 5, 240, 40, true, 'HS', 1],
      [40, 5, 120, 48, true, 'HS', 1],
      [48, 5, 144, 48, true, 'HS', 1],
      [48, 5, 288, 96, true, 'HS', 2],
      [96, 5, 576, 96, true, 'HS', 1],
      [96, 5, 576, 96, true, 'HS', 1],
    ],
    lastChannel: 1024,
  },
};

const NORM: BatchNorm2dOptions = { eps: 0.001, momentum: 0.01 };
const hardswish = (): Module => new Hardswish(true);
const relu = (): Module => new ReLU();

/** Expand (1x1, unless the widths agree), depthwise, optional squeeze-excitation, project; residual when shapes allow. */
export class InvertedResidualV3 extends Module {
  readonly useResidual: boolean;

  constructor([inp, kernel, expanded, out, useSe, act, stride]: BlockRow) {
    super();
    this.useResidual = stride === 1 && inp === out;
    const activation = act === 'HS' ? hardswish : relu;
    const layers: Module[] = [];
    if (expanded !== inp) layers.push(conv2dNormActivation(inp, expanded, 1, { norm: NORM, activation }));
    layers.push(conv2dNormActivation(expanded, expanded, kernel, { stride, groups: expanded, norm: NORM, activation }));
    if (useSe) layers.push(new SqueezeExcitation(expanded, makeDivisible(Math.floor(expanded / 4), 8), { scaleActivation: () => new Hardsigmoid() }));
    layers.push(conv2dNormActivation(expanded, out, 1, { norm: NORM, activation: null }));
    this.registerModule('block', new Sequential(layers));
  }

  forward(x: Tensor): Tensor {
    const result = this.child('block').forward(x);
    // In place, as torchvision's `result += input`: on the projection's BatchNorm output.
    return this.useResidual ? result.add_(x) : result;
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return this.useResidual ? [residual(['block'])] : ['block'];
  }
}

function mobilenetV3Config(name: string, variant: 'small' | 'large', resize: number, pretrained: ModelConfig['pretrained']): ModelConfig {
  return {
    name,
    arch: 'mobilenet_v3',
    inputSize: [3, 224, 224],
    minInputSize: [3, 32, 32],
    ...IMAGENET_STATS,
    cropPct: 224 / resize,
    interpolation: 'bilinear',
    firstConv: 'features.0.0',
    classifier: 'classifier.3',
    numClasses: 1000,
    options: { variant, dropout: 0.2 },
    pretrained,
  };
}

/** torchvision 0.14's DEFAULT weights: IMAGENET1K_V1 for Small, IMAGENET1K_V2 for Large (resize 232). */
export const MOBILENET_V3_CONFIGS: ModelConfig[] = [
  mobilenetV3Config('mobilenet_v3_small', 'small', 256, torchvisionWeights('mobilenet_v3_small-047dcff4.pth', '047dcff4')),
  mobilenetV3Config('mobilenet_v3_large', 'large', 232, torchvisionWeights('mobilenet_v3_large-5c1a4163.pth', '5c1a4163')),
];

/**
 * features (stem, blocks, last 1x1 conv), pooling, then classifier: Linear, Hardswish, Dropout,
 * Linear. The last Linear (`classifier.3`) is the classifier that heads replace; the layers
 * before it are the model's pre-logits, as timm counts them.
 */
export class MobileNetV3 extends ClassifierModel {
  readonly lastChannel: number;
  /** Feature indices where each resolution group of blocks starts (the first, then every stride 2). */
  readonly #groupStarts: number[] = [];

  constructor(config: ModelConfig) {
    super(config);
    const v = VARIANTS[String(config.options.variant)];
    if (v === undefined) throw new Error(`internal: unknown MobileNetV3 variant ${String(config.options.variant)}`);
    const features: Module[] = [conv2dNormActivation(config.inputSize[0], v.rows[0]![0], 3, { stride: 2, norm: NORM, activation: hardswish })];
    for (const row of v.rows) {
      if (row[6] !== 1 || features.length === 1) this.#groupStarts.push(features.length);
      features.push(new InvertedResidualV3(row));
    }
    const lastIn = v.rows[v.rows.length - 1]![3];
    const lastConv = 6 * lastIn;
    features.push(conv2dNormActivation(lastIn, lastConv, 1, { norm: NORM, activation: hardswish }));
    this.lastChannel = v.lastChannel;
    this.registerModule('features', new Sequential(features));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule(
      'classifier',
      new Sequential([new Linear(lastConv, v.lastChannel), new Hardswish(true), new Dropout(Number(config.options.dropout ?? 0.2)), new Linear(v.lastChannel, config.numClasses)]),
    );
    for (const m of this.namedModules().values()) initTorchvisionLayer(m, 'mobilenet_v3');
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('features').forward(x);
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('classifier').forward(this.#pool(features));
  }

  #pool(features: Tensor): Tensor {
    return this.child('avgpool').forward(features).flatten(1);
  }

  /** features, pooling and classifier as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['features', 'avgpool', FLATTEN, 'classifier'];
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.lastChannel, numClasses);
    initTorchvisionLayer(fc, 'mobilenet_v3');
    return fc;
  }

  /**
   * stem, one stage per resolution, the last 1x1 conv, pre_logits (pooling, classifier.0 and
   * its Hardswish), head (classifier.2's dropout and classifier.3). Dropout sits in the head so
   * that it drops while the head trains on a frozen body's cached features, as it would in
   * torchvision's forward.
   */
  stages(): Stage[] {
    const f = this.child<Sequential>('features').children();
    // Looked up at call time: a few-shot head replaces classifier.3 after stages() was read.
    const c = (i: number): Module => this.child<Sequential>('classifier').at(i);
    const last = f.length - 1;
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
    const groups = this.#groupStarts.map((start, g) => range(start, this.#groupStarts[g + 1] ?? last));
    return [
      chainStage('stem', ['features.0'], [f[0]!]),
      ...groups.map((idx, g) => chainStage(`stage${g + 1}`, idx.map((i) => `features.${i}`), idx.map((i) => f[i]!))),
      chainStage('final_conv', [`features.${last}`], [f[last]!]),
      { name: 'pre_logits', prefixes: ['classifier.0'], forward: (x: Tensor) => c(1).forward(c(0).forward(this.#pool(x))) },
      { name: 'head', prefixes: ['classifier.3'], forward: (x: Tensor) => c(3).forward(c(2).forward(x)) },
    ];
  }
}
