/**
 * The surface every zoo model shares (timm's): forwardFeatures, forwardHead, resetClassifier,
 * plus ordered layer groups (`stages`) that the trainer freezes and caches by.
 */
import { TlcvError, argumentError } from '../errors.js';
import { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

/** Where a zoo entry's ImageNet weights live, and the sha256 they must have. */
export interface PretrainedSource {
  url: string;
  /**
   * The file's sha256 in hex. Where only the 8-hex prefix that torchvision puts in the file
   * name is known, this holds that prefix and the check compares prefixes (as torch.hub does).
   * null where none is published (DINOv2's files): the download is then checked by loading it,
   * whose state dict must fit the architecture key for key and shape for shape.
   */
  sha256: string | null;
  /** File name inside the weights cache. */
  file: string;
  /** The file holds the backbone only (DINOv2's): loading it leaves the classifier freshly initialised. */
  backboneOnly?: boolean;
}

export interface ModelConfig {
  name: string;
  arch: string;
  /** [channels, height, width] the model is built for. */
  inputSize: [number, number, number];
  minInputSize: [number, number, number];
  /**
   * [height, width] for photo-sized data when the user names no size (default: inputSize's).
   * A model whose own size is digit-sized says here what photos should shrink to.
   */
  photoInputSize?: [number, number];
  mean: number[];
  std: number[];
  /**
   * Evaluation's crop for photos when the user names none (timm's crop_pct: resize to
   * input / cropPct, centre-crop the input; default 0.875), as the weights' own transforms say
   * (torchvision's `weights.transforms()`: crop_size / resize_size).
   */
  cropPct?: number;
  /** The resize kernel of the weights' transforms when the user names none (default bilinear). */
  interpolation?: 'bilinear' | 'bicubic' | 'nearest' | 'lanczos';
  /** Module path of the first conv (its weight is adapted to other channel counts). */
  firstConv: string;
  /** Module path of the classifier layer that resetClassifier replaces. */
  classifier: string;
  numClasses: number;
  /** Architecture settings (depths, width multiplier, dropout). */
  options: Record<string, number | string | boolean | number[]>;
  pretrained?: PretrainedSource;
}

/**
 * A group of layers. Applying a model's stages in order equals its forward; each one can be
 * called alone (the trainer caches the output of a frozen prefix). `prefixes` name the
 * parameters the stage owns, ready for `freeze(prefixes)`.
 */
export interface Stage {
  name: string;
  prefixes: string[];
  forward(x: Tensor): Tensor;
}

export abstract class ClassifierModel extends Module {
  #config: ModelConfig;

  constructor(config: ModelConfig) {
    super();
    this.#config = { ...config, inputSize: [...config.inputSize], minInputSize: [...config.minInputSize], mean: [...config.mean], std: [...config.std] };
  }

  /** The settings this model was built with (numClasses follows resetClassifier). */
  get config(): ModelConfig {
    return this.#config;
  }
  get numClasses(): number {
    return this.#config.numClasses;
  }

  /** Backbone output before pooling: [N, C', H', W']. */
  abstract forwardFeatures(x: Tensor): Tensor;
  /** Pooling and classifier: features to logits [N, numClasses]. */
  abstract forwardHead(features: Tensor): Tensor;
  /** Ordered layer groups; the last `headStageCount` of them are the classifier head. */
  abstract stages(): Stage[];
  /** Builds the new classifier layer for `numClasses` outputs, initialised as the architecture does. */
  protected abstract makeClassifier(numClasses: number): Module;

  /** How many trailing stages make up the head (owning what resetClassifier replaces). */
  get headStageCount(): number {
    return 1;
  }

  /**
   * How many trailing stages feature extraction trains. Usually the head alone; a model
   * whose classifier is an MLP (the spec's CustomModel) trains the whole MLP on frozen
   * convolutional features.
   */
  get featureExtractionStageCount(): number {
    return this.headStageCount;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** Throws a readable error for input the model cannot take, before libtorch would. */
  checkInput(x: Tensor): void {
    const [c, minH, minW] = this.#config.minInputSize;
    const s = x.shape;
    if (s.length !== 4 || s[1] !== this.#config.inputSize[0] || s[2]! < minH || s[3]! < minW) {
      throw new TlcvError(
        'ARGUMENT',
        `Expected input [N, ${c}, H, W] with H >= ${minH} and W >= ${minW} for ${this.#config.name} but received [${s.join(', ')}]`,
      );
    }
  }

  /**
   * Replaces everything feature extraction trains with one new classifier layer on the frozen
   * body's features: for most models that is the classifier itself (resetClassifier); a model
   * whose classifier is an MLP (seed-cnn) drops its hidden layer. Training-free heads start
   * here, so that they stand on the features feature extraction trains on.
   *
   * @example
   * model.resetFeatureExtractionHead(10); // seed-cnn: classifier.fc2 now takes the flattened conv features
   */
  resetFeatureExtractionHead(numClasses: number): void {
    this.resetClassifier(numClasses);
  }

  /**
   * A pretrained tensor whose shape differs from this model's, made to fit, with a few words on
   * how (a ViT's position embedding interpolated to another input size); null when it cannot be,
   * and the load then reports the mismatch. The caller owns the tensor returned.
   */
  adaptPretrainedTensor(_key: string, _theirs: Tensor): { tensor: Tensor; how: string } | null {
    return null;
  }

  /** Records architecture settings that a subclass changed after construction (saved with the model). */
  protected setOptions(options: ModelConfig['options']): void {
    this.#config = { ...this.#config, options: { ...options } };
  }

  /**
   * Replaces the classifier with a freshly initialised one for `numClasses` outputs, on the
   * same device and dtype, and disposes the old one.
   *
   * @example
   * const model = createModel('resnet18');
   * model.resetClassifier(10);
   */
  resetClassifier(numClasses: number): void {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw argumentError('numClasses', 'a positive integer', numClasses);
    const old = this.getSubmodule(this.#config.classifier);
    const head = this.makeClassifier(numClasses);
    const ref = old.parameters()[0];
    if (ref !== undefined && (ref.device !== 'cpu' || ref.dtype !== 'float32')) head.to({ device: ref.device, dtype: ref.dtype });
    head.train(this.training);
    this.setSubmodule(this.#config.classifier, head);
    this.#config = { ...this.#config, numClasses };
  }
}

/** A stage that runs the given modules one after another. */
export function chainStage(name: string, prefixes: string[], modules: Module[]): Stage {
  return {
    name,
    prefixes,
    forward: (x: Tensor): Tensor => modules.reduce((out, m) => m.forward(out), x),
  };
}
