/**
 * MobileNetV2 exactly as torchvision 0.14 builds it, with the width multiplier `alpha`
 * (torchvision's width_mult) rounded to multiples of 8 by _make_divisible.
 */
import { BatchNorm2d, Conv2d, Dropout, Linear, Module, ReLU6, Sequential, init } from '../nn/index.js';
import { F, type Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, GLOBAL_AVG_POOL, residual, type ForwardStep } from './forward-spec.js';

/** Rounds v to a multiple of divisor, never below divisor or 90% of v (torchvision's _make_divisible). */
export function makeDivisible(v: number, divisor: number, minValue = divisor): number {
  let newV = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** Expansion t, output channels c, repeats n, first stride s: torchvision's inverted_residual_setting. */
const SETTINGS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Conv2d (no bias), BatchNorm2d, ReLU6: torchvision's Conv2dNormActivation, children '0', '1', '2'. */
function convBnRelu6(inp: number, out: number, kernel = 3, stride = 1, groups = 1): Sequential {
  const padding = Math.floor((kernel - 1) / 2);
  return new Sequential([new Conv2d(inp, out, kernel, { stride, padding, groups, bias: false }), new BatchNorm2d(out), new ReLU6()]);
}

export class InvertedResidual extends Module {
  readonly useResidual: boolean;

  constructor(inp: number, out: number, stride: number, expandRatio: number) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResidual = stride === 1 && inp === out;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convBnRelu6(inp, hidden, 1));
    layers.push(convBnRelu6(hidden, hidden, 3, stride, hidden), new Conv2d(hidden, out, 1, { bias: false }), new BatchNorm2d(out));
    this.registerModule('conv', new Sequential(layers));
  }

  forward(x: Tensor): Tensor {
    const y = this.child('conv').forward(x);
    return this.useResidual ? x.add(y) : y;
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return this.useResidual ? [residual(['conv'])] : ['conv'];
  }
}

const imagenet = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function mobilenetConfig(name: string, alpha: number, pretrained?: ModelConfig['pretrained']): ModelConfig {
  return {
    name,
    arch: 'mobilenet_v2',
    inputSize: [3, 224, 224],
    minInputSize: [3, 32, 32],
    ...imagenet,
    firstConv: 'features.0.0',
    classifier: 'classifier.1',
    numClasses: 1000,
    options: { alpha, dropout: 0.2 },
    pretrained,
  };
}

/** torchvision publishes ImageNet weights for alpha 1.0 only (sha256: its 8-hex prefix). */
export const MOBILENET_V2_CONFIGS: ModelConfig[] = [
  mobilenetConfig('mobilenet_v2', 1.0, {
    url: 'https://download.pytorch.org/models/mobilenet_v2-b0353104.pth',
    sha256: 'b0353104',
    file: 'mobilenet_v2-b0353104.pth',
  }),
  mobilenetConfig('mobilenet_v2_035', 0.35),
];

export class MobileNetV2 extends ClassifierModel {
  readonly lastChannel: number;
  /** Feature indices where each resolution group of inverted-residual blocks starts. */
  readonly #groupStarts: number[] = [];
  readonly #blockCount: number;

  constructor(config: ModelConfig) {
    super(config);
    const alpha = Number(config.options.alpha ?? 1);
    let input = makeDivisible(32 * alpha, 8);
    this.lastChannel = makeDivisible(1280 * Math.max(1.0, alpha), 8);
    const features: Module[] = [convBnRelu6(config.inputSize[0], input, 3, 2)];
    for (const [t, c, n, s] of SETTINGS) {
      const out = makeDivisible(c * alpha, 8);
      for (let i = 0; i < n; i += 1) {
        const stride = i === 0 ? s : 1;
        if (stride !== 1 || features.length === 1) this.#groupStarts.push(features.length);
        features.push(new InvertedResidual(input, out, stride, t));
        input = out;
      }
    }
    this.#blockCount = features.length - 1;
    features.push(convBnRelu6(input, this.lastChannel, 1));
    this.registerModule('features', new Sequential(features));
    this.registerModule('classifier', new Sequential([new Dropout(Number(config.options.dropout ?? 0.2)), new Linear(this.lastChannel, config.numClasses)]));
    for (const m of this.namedModules().values()) initLayer(m);
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('features').forward(x);
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('classifier').forward(F.adaptiveAvgPool2d(features, [1, 1]).flatten(1));
  }

  /** features, pooling and classifier as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['features', GLOBAL_AVG_POOL, FLATTEN, 'classifier'];
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.lastChannel, numClasses);
    initLayer(fc);
    return fc;
  }

  stages(): Stage[] {
    const f = this.child<Sequential>('features').children();
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
    const groups = this.#groupStarts.map((start, g) => range(start, this.#groupStarts[g + 1] ?? this.#blockCount + 1));
    const last = f.length - 1;
    return [
      chainStage('stem', ['features.0'], [f[0]!]),
      ...groups.map((idx, g) => chainStage(`stage${g + 1}`, idx.map((i) => `features.${i}`), idx.map((i) => f[i]!))),
      chainStage('final_conv', [`features.${last}`], [f[last]!]),
      { name: 'head', prefixes: ['classifier'], forward: (x: Tensor) => this.forwardHead(x) },
    ];
  }
}

/** torchvision's MobileNetV2 init for one layer. */
function initLayer(m: Module): void {
  if (m instanceof Conv2d) {
    init.kaimingNormal_(m.weight, { mode: 'fan_out' });
    if (m.bias !== null) init.zeros_(m.bias);
  } else if (m instanceof BatchNorm2d && m.weight !== null && m.bias !== null) {
    init.ones_(m.weight);
    init.zeros_(m.bias);
  } else if (m instanceof Linear) {
    init.normal_(m.weight, 0, 0.01);
    if (m.bias !== null) init.zeros_(m.bias);
  }
}
