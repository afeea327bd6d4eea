/**
 * RegNetY-400MF and RegNetY-1.6GF exactly as torchvision 0.14 builds them: a 3x3 stem, four
 * stages of residual bottlenecks whose 3x3 conv is grouped and followed by squeeze-excitation,
 * widths laid out by RegNet's quantised linear rule (Radosavovic et al. 2020). Module names
 * (`trunk_output.block1.block1-0.f.a`), construction order and init are torchvision's, so a
 * seed gives torchvision's weights and its checkpoints load as they are.
 */
import { AdaptiveAvgPool2d, Linear, Module, ReLU, Sequential, SqueezeExcitation, conv2dNormActivation } from '../nn/index.js';
import { F, type Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, residual, type ForwardStep } from './forward-spec.js';
import { makeDivisible } from './mobilenet-v2.js';
import { IMAGENET_STATS, initTorchvisionLayer, torchvisionWeights } from './torchvision-common.js';

/** RegNet's design parameters: depth, initial width w0, slope wa, log-step wm, group width, SE ratio. */
export interface RegNetParams {
  depth: number;
  w0: number;
  wa: number;
  wm: number;
  groupWidth: number;
  seRatio: number;
}

const VARIANTS: Record<string, RegNetParams> = {
  y_400mf: { depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8, seRatio: 0.25 },
  y_1_6gf: { depth: 27, w0: 48, wa: 20.71, wm: 2.65, groupWidth: 24, seRatio: 0.25 },
};

/** Per-stage depths, widths and group widths. */
export interface RegNetStages {
  depths: number[];
  widths: number[];
  groupWidths: number[];
}

/**
 * torchvision's BlockParams.from_init_params (bottleneck multiplier 1): block j's width is
 * w0 * wm^round(log(w0 + wa j / w0) / log wm), rounded to a multiple of 8; runs of equal width
 * form the stages; stage widths are then made divisible by the group width. torchvision works
 * in float32 here and this in float64; the roundings land the same for the zoo's RegNets (the
 * parity test compares every shape with torchvision's).
 *
 * @example
 * regnetStages(VARIANTS.y_400mf); // { depths: [1, 3, 6, 6], widths: [48, 104, 208, 440], groupWidths: [8, 8, 8, 8] }
 */
export function regnetStages(p: RegNetParams): RegNetStages {
  const QUANT = 8;
  const blockWidths = Array.from({ length: p.depth }, (_, j) => {
    const capacity = Math.round(Math.log((j * p.wa + p.w0) / p.w0) / Math.log(p.wm));
    return Math.round((p.w0 * p.wm ** capacity) / QUANT) * QUANT;
  });
  const widths: number[] = [];
  const depths: number[] = [];
  for (const w of blockWidths) {
    if (widths[widths.length - 1] === w) depths[depths.length - 1]! += 1;
    else {
      widths.push(w);
      depths.push(1);
    }
  }
  const groupWidths = widths.map((w) => Math.min(p.groupWidth, w));
  return { depths, widths: widths.map((w, i) => makeDivisible(w, groupWidths[i]!)), groupWidths };
}

const relu = (): Module => new ReLU();

/** 1x1 (a), grouped 3x3 (b, the stride), squeeze-excitation, 1x1 (c): torchvision's BottleneckTransform. */
function bottleneckTransform(widthIn: number, widthOut: number, stride: number, groupWidth: number, seRatio: number): Sequential {
  const g = Math.floor(widthOut / groupWidth);
  return new Sequential({
    a: conv2dNormActivation(widthIn, widthOut, 1, { activation: relu }),
    b: conv2dNormActivation(widthOut, widthOut, 3, { stride, groups: g, activation: relu }),
    se: new SqueezeExcitation(widthOut, Math.round(seRatio * widthIn), { activation: relu }),
    c: conv2dNormActivation(widthOut, widthOut, 1, { activation: null }),
  });
}

/** x + f(x), or proj(x) + f(x) where the shape changes, then ReLU. */
export class ResBottleneckBlock extends Module {
  constructor(widthIn: number, widthOut: number, stride: number, groupWidth: number, seRatio: number) {
    super();
    if (widthIn !== widthOut || stride !== 1) this.registerModule('proj', conv2dNormActivation(widthIn, widthOut, 1, { stride, activation: null }));
    this.registerModule('f', bottleneckTransform(widthIn, widthOut, stride, groupWidth, seRatio));
    this.registerModule('activation', new ReLU());
  }

  forward(x: Tensor): Tensor {
    const shortcut = this.hasChild('proj') ? this.child('proj').forward(x) : x;
    // torchvision's ReLU(inplace=True), on the sum, which backward does not read.
    return F.relu_(shortcut.add(this.child('f').forward(x)));
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return [residual(['f'], this.hasChild('proj') ? ['proj'] : []), 'activation'];
  }
}

function regnetConfig(name: string, variant: string, pretrained: ModelConfig['pretrained']): ModelConfig {
  return {
    name,
    arch: 'regnet',
    inputSize: [3, 224, 224],
    minInputSize: [3, 32, 32],
    ...IMAGENET_STATS,
    cropPct: 224 / 232,
    interpolation: 'bilinear',
    firstConv: 'stem.0',
    classifier: 'fc',
    numClasses: 1000,
    options: { variant },
    pretrained,
  };
}

/** torchvision 0.14's DEFAULT weights, IMAGENET1K_V2 for both (crop 224, resize 232, bilinear). */
export const REGNET_CONFIGS: ModelConfig[] = [
  regnetConfig('regnet_y_400mf', 'y_400mf', torchvisionWeights('regnet_y_400mf-e6988f5f.pth', 'e6988f5f')),
  regnetConfig('regnet_y_1_6gf', 'y_1_6gf', torchvisionWeights('regnet_y_1_6gf-0d7bc02a.pth', '0d7bc02a')),
];

export class RegNet extends ClassifierModel {
  readonly featureChannels: number;
  readonly #stageCount: number;

  constructor(config: ModelConfig) {
    super(config);
    const p = VARIANTS[String(config.options.variant)];
    if (p === undefined) throw new Error(`internal: unknown RegNet variant ${String(config.options.variant)}`);
    const s = regnetStages(p);
    const stemWidth = 32;
    this.registerModule('stem', conv2dNormActivation(config.inputSize[0], stemWidth, 3, { stride: 2, activation: relu }));
    let width = stemWidth;
    const stages: Record<string, Module> = {};
    s.widths.forEach((out, i) => {
      const blocks: Record<string, Module> = {};
      for (let j = 0; j < s.depths[i]!; j += 1) {
        blocks[`block${i + 1}-${j}`] = new ResBottleneckBlock(j === 0 ? width : out, out, j === 0 ? 2 : 1, s.groupWidths[i]!, p.seRatio);
      }
      stages[`block${i + 1}`] = new Sequential(blocks);
      width = out;
    });
    this.#stageCount = s.widths.length;
    this.featureChannels = width;
    this.registerModule('trunk_output', new Sequential(stages));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('fc', new Linear(width, config.numClasses));
    for (const m of this.namedModules().values()) initTorchvisionLayer(m, 'regnet');
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.child('trunk_output').forward(this.child('stem').forward(x));
  }

  forwardHead(features: Tensor): Tensor {
    return this.child('fc').forward(this.child('avgpool').forward(features).flatten(1));
  }

  /** stem, trunk, pooling and fc as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['stem', 'trunk_output', 'avgpool', FLATTEN, 'fc'];
  }

  protected makeClassifier(numClasses: number): Module {
    const fc = new Linear(this.featureChannels, numClasses);
    initTorchvisionLayer(fc, 'regnet');
    return fc;
  }

  /** stem, the four stages (trunk_output.block1 ...), head. */
  stages(): Stage[] {
    const trunk = this.child<Sequential>('trunk_output');
    const blocks = Array.from({ length: this.#stageCount }, (_, i) => chainStage(`block${i + 1}`, [`trunk_output.block${i + 1}`], [trunk.get(`block${i + 1}`)]));
    return [chainStage('stem', ['stem'], [this.child('stem')]), ...blocks, { name: 'head', prefixes: ['fc'], forward: (x: Tensor) => this.forwardHead(x) }];
  }
}
