/**
 * The model zoo: a config per model (timm style) and one way to build any of them.
 * Options apply to the config before the model is built, so what `model.config` says is what
 * was built.
 */
import { TlcvError, argumentError } from '../errors.js';
import type { ClassifierModel, ModelConfig } from './classifier.js';
import { EfficientNet, EFFICIENTNET_CONFIGS } from './efficientnet.js';
import { MobileNetV2, MOBILENET_V2_CONFIGS } from './mobilenet-v2.js';
import { MobileNetV3, MOBILENET_V3_CONFIGS } from './mobilenet-v3.js';
import { RegNet, REGNET_CONFIGS } from './regnet.js';
import { ResNet, RESNET_CONFIGS } from './resnet.js';
import { SeedCnn, SEED_CNN_CONFIG } from './seed-cnn.js';
import { ConvNeXt, CONVNEXT_CONFIGS } from './convnext.js';
import { VisionTransformer, VIT_CONFIGS } from './vision-transformer.js';
import { DinoVisionTransformer, DINOV2_CONFIGS } from './dinov2.js';

export type { ClassifierModel, ModelConfig, PretrainedSource, Stage } from './classifier.js';

export type ModelBuilder = (config: ModelConfig) => ClassifierModel;

export interface CreateModelOptions {
  /** Outputs of the classifier (default: the config's, 1000 for ImageNet models). */
  numClasses?: number;
  /** Input channels; the first conv is built for them (see loadPretrained for weights). */
  inChannels?: number;
  /** Input [height, width]; at least the model's minimum. */
  inputSize?: [number, number];
  /** MobileNetV2 width multiplier. */
  alpha?: number;
  /** Dropout probability before the last layer. */
  dropout?: number;
  /**
   * Stochastic depth (EfficientNet): the drop probability of the last residual block, the
   * others' growing linearly to it (torchvision's stochastic_depth_prob; default 0.2).
   */
  stochasticDepthProb?: number;
  /** seed-cnn: width of the classifier's hidden layer (0: none, one layer on the conv features). */
  hidden?: number;
}

const zoo = new Map<string, { config: ModelConfig; build: ModelBuilder }>();

/** Adds a model to the zoo (replacing one of the same name). */
export function registerModel(config: ModelConfig, build: ModelBuilder): void {
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(config.name)) throw argumentError('model name', 'lower-case letters, digits, "_", "-" or "."', config.name);
  zoo.set(config.name, { config, build });
}

/** Names of every registered model, sorted. */
export function listModels(): string[] {
  return [...zoo.keys()].sort();
}

function entry(name: string): { config: ModelConfig; build: ModelBuilder } {
  const e = zoo.get(name);
  if (e === undefined) throw new TlcvError('MODEL', `unknown model ${JSON.stringify(name)}: known models are ${listModels().join(', ')}`);
  return e;
}

/** A copy of a registered model's default config. */
export function getModelConfig(name: string): ModelConfig {
  const c = entry(name).config;
  return { ...c, inputSize: [...c.inputSize], minInputSize: [...c.minInputSize], ...(c.photoInputSize ? { photoInputSize: [...c.photoInputSize] } : {}), mean: [...c.mean], std: [...c.std], options: { ...c.options } };
}

const positiveInt = (v: number): boolean => Number.isInteger(v) && v >= 1;

/**
 * Per-channel statistics for another channel count: one channel takes the mean of the
 * defaults (ImageNet RGB to gray); other counts repeat that average.
 */
function adaptStats(values: number[], channels: number): number[] {
  if (values.length === channels) return [...values];
  const avg = values.reduce((a, b) => a + b, 0) / values.length;
  return Array.from({ length: channels }, () => avg);
}

/** The config `createModel(name, o)` builds with. */
export function resolveConfig(name: string, o: CreateModelOptions = {}): ModelConfig {
  const c = getModelConfig(name);
  if (o.numClasses !== undefined) {
    if (!positiveInt(o.numClasses)) throw argumentError('numClasses', 'positive integer', o.numClasses);
    c.numClasses = o.numClasses;
  }
  if (o.inChannels !== undefined) {
    if (!positiveInt(o.inChannels)) throw argumentError('inChannels', 'positive integer', o.inChannels);
    c.mean = adaptStats(c.mean, o.inChannels);
    c.std = adaptStats(c.std, o.inChannels);
    c.inputSize[0] = o.inChannels;
    c.minInputSize[0] = o.inChannels;
  }
  if (o.inputSize !== undefined) {
    const [h, w] = o.inputSize;
    const [, minH, minW] = c.minInputSize;
    if (o.inputSize.length !== 2 || !positiveInt(h) || !positiveInt(w) || h < minH || w < minW) {
      throw argumentError('inputSize', `[height, width] of at least [${minH}, ${minW}] (the minimum of ${name})`, o.inputSize);
    }
    c.inputSize = [c.inputSize[0], h, w];
  }
  if (o.alpha !== undefined) {
    if (!('alpha' in c.options)) throw new TlcvError('ARGUMENT', `alpha (width multiplier) applies to mobilenet_v2 models, not to ${name}; received ${o.alpha}`);
    if (!(o.alpha > 0 && Number.isFinite(o.alpha))) throw argumentError('alpha', 'a positive width multiplier', o.alpha);
    c.options.alpha = o.alpha;
    // Weights for one width do not fit another.
    if (o.alpha !== entry(name).config.options.alpha) delete c.pretrained;
  }
  if (o.hidden !== undefined) {
    if (!('hidden' in c.options)) throw new TlcvError('ARGUMENT', `hidden (the classifier's hidden layer) applies to seed-cnn, not to ${name}; received ${o.hidden}`);
    if (!(Number.isInteger(o.hidden) && o.hidden >= 0)) throw argumentError('hidden', 'a non-negative integer', o.hidden);
    c.options.hidden = o.hidden;
  }
  if (o.dropout !== undefined) {
    if (!('dropout' in c.options)) throw new TlcvError('ARGUMENT', `dropout applies to models with a dropout layer, not to ${name}; received ${o.dropout}`);
    if (!(o.dropout >= 0 && o.dropout < 1)) throw argumentError('dropout', 'a probability in [0, 1)', o.dropout);
    c.options.dropout = o.dropout;
  }
  if (o.stochasticDepthProb !== undefined) {
    if (!('stochasticDepthProb' in c.options)) throw new TlcvError('ARGUMENT', `stochasticDepthProb applies to models with stochastic depth, not to ${name}; received ${o.stochasticDepthProb}`);
    if (!(o.stochasticDepthProb >= 0 && o.stochasticDepthProb <= 1)) throw argumentError('stochasticDepthProb', 'a probability in [0, 1]', o.stochasticDepthProb);
    c.options.stochasticDepthProb = o.stochasticDepthProb;
  }
  return c;
}

/**
 * Builds a registered model, freshly initialised from the global generator.
 *
 * @example
 * manualSeed(0);
 * const model = createModel('mobilenet_v2_035', { numClasses: 10, inChannels: 1, inputSize: [96, 96] });
 */
export function createModel(name: string, o: CreateModelOptions = {}): ClassifierModel {
  return entry(name).build(resolveConfig(name, o));
}

registerModel(SEED_CNN_CONFIG, (c) => new SeedCnn(c));
for (const c of RESNET_CONFIGS) registerModel(c, (cfg) => new ResNet(cfg));
for (const c of MOBILENET_V2_CONFIGS) registerModel(c, (cfg) => new MobileNetV2(cfg));
for (const c of EFFICIENTNET_CONFIGS) registerModel(c, (cfg) => new EfficientNet(cfg));
for (const c of MOBILENET_V3_CONFIGS) registerModel(c, (cfg) => new MobileNetV3(cfg));
for (const c of REGNET_CONFIGS) registerModel(c, (cfg) => new RegNet(cfg));
for (const c of CONVNEXT_CONFIGS) registerModel(c, (cfg) => new ConvNeXt(cfg));
for (const c of VIT_CONFIGS) registerModel(c, (cfg) => new VisionTransformer(cfg));
for (const c of DINOV2_CONFIGS) registerModel(c, (cfg) => new DinoVisionTransformer(cfg));
