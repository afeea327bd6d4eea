/**
 * seed-cnn: the spec's CustomModel, four 3x3 convs and three 2x2 poolings then a two-layer
 * classifier. The spec hard-codes a flatten size of 256*7*7, which its own three poolings on
 * 28x28 input do not produce (28 -> 14 -> 7 -> 3); here it is computed from the input size.
 */
import { TlcvError } from '../errors.js';
import { Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential, type Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';
import { ClassifierModel, chainStage, type ModelConfig, type Stage } from './classifier.js';
import { FLATTEN, type ForwardStep } from './forward-spec.js';

/**
 * Defaults: 1x28x28 input (MNIST-sized) and mean/std 0.5/0.5, i.e. pixels in [0, 1] mapped to
 * [-1, 1]. That normalisation suits any grayscale dataset without knowing its statistics.
 * Photos default to 64x64: the flatten size grows with the input (256 * 8 * 8 features into
 * fc-512 is 8.4M weights at 64 px; 224 px would make it 103M), and 64 px is where tlcv's
 * digit-sized data ends.
 */
export const SEED_CNN_CONFIG: ModelConfig = {
  name: 'seed-cnn',
  arch: 'seed-cnn',
  inputSize: [1, 28, 28],
  minInputSize: [1, 8, 8],
  photoInputSize: [64, 64],
  mean: [0.5],
  std: [0.5],
  firstConv: 'features.0',
  classifier: 'classifier.fc2',
  numClasses: 10,
  options: { dropout: 0.5, hidden: 512 },
};

/** Side length after the three 2x2 poolings (floor at each, as max_pool2d does). */
const pooled = (n: number): number => Math.floor(Math.floor(Math.floor(n / 2) / 2) / 2);

export class SeedCnn extends ClassifierModel {
  readonly flatFeatures: number;

  constructor(config: ModelConfig) {
    super(config);
    const [c, h, w] = config.inputSize;
    const conv = (i: number, o: number): Conv2d => new Conv2d(i, o, 3, { padding: 1 });
    this.registerModule(
      'features',
      new Sequential([conv(c, 64), new ReLU(), new MaxPool2d(2), conv(64, 128), new ReLU(), new MaxPool2d(2), conv(128, 256), new ReLU(), conv(256, 256), new ReLU(), new MaxPool2d(2)]),
    );
    this.flatFeatures = 256 * pooled(h) * pooled(w);
    const hidden = Number(config.options.hidden ?? 512);
    // hidden 0: one layer on the flattened conv features (what a training-free head replaces the MLP with).
    this.registerModule(
      'classifier',
      new Sequential(
        hidden === 0
          ? { fc2: new Linear(this.flatFeatures, config.numClasses) }
          : {
              fc1: new Linear(this.flatFeatures, hidden),
              relu1: new ReLU(),
              dropout1: new Dropout(Number(config.options.dropout ?? 0.5)),
              fc2: new Linear(hidden, config.numClasses),
            },
      ),
    );
  }

  /** Whether the classifier still has the spec's hidden layer (fc1, ReLU, dropout). */
  get hasHiddenLayer(): boolean {
    return this.classifier.namedChildren().has('fc1');
  }

  private get features(): Sequential {
    return this.child<Sequential>('features');
  }
  private get classifier(): Sequential {
    return this.child<Sequential>('classifier');
  }

  override checkInput(x: Tensor): void {
    super.checkInput(x);
    const [, h, w] = this.config.inputSize;
    if (pooled(x.shape[2]!) !== pooled(h) || pooled(x.shape[3]!) !== pooled(w)) {
      throw new TlcvError(
        'ARGUMENT',
        `seed-cnn was built for ${this.config.inputSize.join('x')} input (its classifier takes ${this.flatFeatures} features) but received [${x.shape.join(', ')}]; create it with inputSize [${x.shape[2]}, ${x.shape[3]}]`,
      );
    }
  }

  forwardFeatures(x: Tensor): Tensor {
    return this.features.forward(x);
  }

  forwardHead(features: Tensor): Tensor {
    return this.classifier.forward(features.flatten(1));
  }

  /** features, flatten and classifier as data, for exporters (see forward-spec.ts). */
  forwardSpec(): ForwardStep[] {
    return ['features', FLATTEN, 'classifier'];
  }

  protected makeClassifier(numClasses: number): Module {
    return new Linear(this.hasHiddenLayer ? this.classifier.get<Linear>('fc1').outFeatures : this.flatFeatures, numClasses);
  }

  /** Drops the hidden layer: the classifier becomes one layer (classifier.fc2) on the flattened conv features. */
  override resetFeatureExtractionHead(numClasses: number): void {
    if (!this.hasHiddenLayer) return this.resetClassifier(numClasses);
    const fc = new Linear(this.flatFeatures, numClasses);
    const ref = this.classifier.get<Linear>('fc2').weight;
    if (ref.device !== 'cpu' || ref.dtype !== 'float32') fc.to({ device: ref.device, dtype: ref.dtype });
    const head = new Sequential({ fc2: fc });
    head.train(this.training);
    this.setSubmodule('classifier', head);
    this.setOptions({ ...this.config.options, hidden: 0 });
    this.resetClassifier(numClasses);
  }

  /** The spec splits CustomModel into `features` and `classifier`: feature extraction trains the classifier. */
  override get featureExtractionStageCount(): number {
    return this.hasHiddenLayer ? 2 : 1;
  }

  stages(): Stage[] {
    const f = this.features.children();
    const cls = this.classifier;
    const blocks = [
      chainStage('block1', ['features.0'], f.slice(0, 3)),
      chainStage('block2', ['features.3'], f.slice(3, 6)),
      chainStage('block3', ['features.6'], f.slice(6, 8)),
      chainStage('block4', ['features.8'], f.slice(8, 11)),
    ];
    if (!this.hasHiddenLayer) return [...blocks, chainStage('head', ['classifier.fc2'], [new Flatten(), cls.get('fc2')])];
    return [
      ...blocks,
      chainStage('fc1', ['classifier.fc1'], [new Flatten(), cls.get('fc1'), cls.get('relu1'), cls.get('dropout1')]),
      chainStage('head', ['classifier.fc2'], [cls.get('fc2')]),
    ];
  }
}
