/**
 * ResNet-18/34/50 exactly as torchvision 0.14 builds them (ResNet v1.5: the stride of a
 * Bottleneck sits on its 3x3 conv), with the same module names, the same construction order
 * and the same init, so a seed gives the same weights as torchvision and its checkpoints load
 * unchanged.
 */
import { BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, ReLU, Sequential, init } from '../nn/index.js';
import { F, type Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, GLOBAL_AVG_POOL, residual, type ForwardStep } from './forward-spec.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

const conv3x3 = (i: number, o: number, stride = 1): Conv2d => new Conv2d(i, o, 3, { stride, padding: 1, bias: false });
const conv1x1 = (i: number, o: number, stride = 1): Conv2d => new Conv2d(i, o, 1, { stride, bias: false });

/** Two 3x3 convs; expansion 1. */
export class BasicBlock extends Module {
  static readonly expansion = 1;

  constructor(inplanes: number, planes: number, stride: number, downsample: Module | null) {
    super();
    this.registerModule('conv1', conv3x3(inplanes, planes, stride));
    this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', new ReLU());
    this.registerModule('conv2', conv3x3(planes, planes));
    this.registerModule('bn2', new BatchNorm2d(planes));
    if (downsample !== null) this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    // In place where torchvision is (ReLU(inplace=True), out += identity): on BatchNorm outputs,
    // which autograd does not need, this saves allocating and writing a full-size tensor per op.
    let out = F.relu_(m('bn1').forward(m('conv1').forward(x)));
    out = m('bn2').forward(m('conv2').forward(out));
    const identity = this.hasChild('downsample') ? m('downsample').forward(x) : x;
    return F.relu_(out.add_(identity));
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return [residual(['conv1', 'bn1', 'relu', 'conv2', 'bn2'], this.hasChild('downsample') ? ['downsample'] : []), 'relu'];
  }
}

/** 1x1 reduce, 3x3 (strided), 1x1 expand; expansion 4. */
export class Bottleneck extends Module {
  static readonly expansion = 4;

  constructor(inplanes: number, planes: number, stride: number, downsample: Module | null) {
    super();
    const out = planes * Bottleneck.expansion;
    this.registerModule('conv1', conv1x1(inplanes, planes));
    this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('conv2', conv3x3(planes, planes, stride));
    this.registerModule('bn2', new BatchNorm2d(planes));
    this.registerModule('conv3', conv1x1(planes, out));
    this.registerModule('bn3', new BatchNorm2d(out));
    this.registerModule('relu', new ReLU());
    if (downsample !== null) this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    let out = F.relu_(m('bn1').forward(m('conv1').forward(x)));
    out = F.relu_(m('bn2').forward(m('conv2').forward(out)));
    out = m('bn3').forward(m('conv3').forward(out));
    const identity = this.hasChild('downsample') ? m('downsample').forward(x) : x;
    return F.relu_(out.add_(identity));
  }

  /** The forward above as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    const body = ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'conv3', 'bn3'];
    return [residual(body, this.hasChild('downsample') ? ['downsample'] : []), 'relu'];
  }
}

type BlockKind = 'basic' | 'bottleneck';

function resnetConfig(name: string, block: BlockKind, layers: number[], pretrained: ModelConfig['pretrained']): ModelConfig {
  return {
    name,
    arch: 'resnet',
    inputSize: [3, 224, 224],
    minInputSize: [3, 32, 32],
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    firstConv: 'conv1',
    classifier: 'fc',
    numClasses: 1000,
    options: { block, layers, dropout: 0 },
    pretrained,
  };
}

const weights = (file: string, sha256: string): ModelConfig['pretrained'] => ({ url: `https://download.pytorch.org/models/${file}`, sha256, file });

/** torchvision IMAGENET1K_V1 weights. Only resnet18's full sha256 is known; the others carry torchvision's 8-hex prefix. */
export const RESNET_CONFIGS: ModelConfig[] = [
  resnetConfig('resnet18', 'basic', [2, 2, 2, 2], weights('resnet18-f37072fd.pth', 'f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec')),
  resnetConfig('resnet34', 'basic', [3, 4, 6, 3], weights('resnet34-b627a593.pth', 'b627a593')),
  resnetConfig('resnet50', 'bottleneck', [3, 4, 6, 3], weights('resnet50-0676ba61.pth', '0676ba61')),
];

export class ResNet extends ClassifierModel {
  readonly featureChannels: number;

  constructor(config: ModelConfig) {
    super(config);
    const Block = config.options.block === 'bottleneck' ? Bottleneck : BasicBlock;
    const depths = config.options.layers as number[];
    let inplanes = 64;
    this.registerModule('conv1', new Conv2d(config.inputSize[0], 64, 7, { stride: 2, padding: 3, bias: false }));
    this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('relu', new ReLU());
    this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    [64, 128, 256, 512].forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const out = planes * Block.expansion;
      // torchvision builds the downsample before its block: the draws must come in that order.
      const downsample = stride !== 1 || inplanes !== out ? new Sequential([conv1x1(inplanes, out, stride), new BatchNorm2d(out)]) : null;
      const blocks: Module[] = [new Block(inplanes, planes, stride, downsample)];
      inplanes = out;
      for (let b = 1; b < depths[i]!; b += 1) blocks.push(new Block(inplanes, planes, 1, null));
      this.registerModule(`layer${i + 1}`, new Sequential(blocks));
    });
    this.featureChannels = inplanes;
    const p = Number(config.options.dropout ?? 0);
    if (p > 0) this.registerModule('dropout', new Dropout(p));
    this.registerModule('fc', new Linear(inplanes, config.numClasses));
    for (const m of this.namedModules().values()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d && m.weight !== null && m.bias !== null) {
        init.ones_(m.weight);
        init.zeros_(m.bias);
      }
    }
  }

  private stem(x: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    return m('maxpool').forward(F.relu_(m('bn1').forward(m('conv1').forward(x))));
  }

  forwardFeatures(x: Tensor): Tensor {
    let out = this.stem(x);
    for (let i = 1; i <= 4; i += 1) out = this.child(`layer${i}`).forward(out);
    return out;
  }

  forwardHead(features: Tensor): Tensor {
    let out = F.adaptiveAvgPool2d(features, [1, 1]).flatten(1);
    if (this.hasChild('dropout')) out = this.child('dropout').forward(out);
    return this.child('fc').forward(out);
  }

  /** stem, layers and head as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    const stem = ['conv1', 'bn1', 'relu', 'maxpool'];
    return [...stem, 'layer1', 'layer2', 'layer3', 'layer4', GLOBAL_AVG_POOL, FLATTEN, ...(this.hasChild('dropout') ? ['dropout'] : []), 'fc'];
  }

  protected makeClassifier(numClasses: number): Module {
    return new Linear(this.featureChannels, numClasses);
  }

  stages(): Stage[] {
    const layers = [1, 2, 3, 4].map((i) => chainStage(`layer${i}`, [`layer${i}`], [this.child(`layer${i}`)]));
    return [
      { name: 'stem', prefixes: ['conv1', 'bn1'], forward: (x: Tensor) => this.stem(x) },
      ...layers,
      { name: 'head', prefixes: ['fc'], forward: (x: Tensor) => this.forwardHead(x) },
    ];
  }
}
