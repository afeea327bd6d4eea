/**
 * A model folder ready to classify images: decode (through data's preprocessImageFile, with the
 * folder's recorded preprocessing, as evaluation does), batch, run libtorch in inference mode,
 * and answer in the `tlcv predict --json` shape that `tlcv serve` also answers with.
 */
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';
import { F, fromTypedArray, inferenceMode, tensor, tidy } from '../tensor/index.js';
import { planForward, sharedFoldedView, type ExecutionPlan } from '../execution/index.js';
import { loadModelFolder, type ModelFolderConfig } from '../transfer/model-folder.js';
import { preprocessImageFile, type ImageSource, type PreprocessConfig } from '../data/index.js';
import { checkImageInput } from './preprocess.js';

export interface TopClass {
  class: string;
  index: number;
  probability: number;
}

/** One image's answer: every class's probability in class order, and the top k. */
export interface Prediction {
  file: string;
  probabilities: number[];
  top: TopClass[];
}

/** What `tlcv predict --json` prints and `POST /predict` answers. */
export interface PredictionReport {
  classes: string[];
  predictions: Prediction[];
}

/**
 * One image's probabilities as a Prediction with the k most likely classes first.
 *
 * @example
 * describePrediction('cat.jpg', [0.1, 0.9], ['dog', 'cat'], 1).top; // [{ class: 'cat', index: 1, probability: 0.9 }]
 */
export function describePrediction(file: string, probabilities: number[], classes: string[], k: number): Prediction {
  const ranked = probabilities.map((probability, index) => ({ class: classes[index] ?? String(index), index, probability }));
  ranked.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return { file, probabilities, top: ranked.slice(0, Math.max(1, Math.min(k, ranked.length))) };
}

// fp32, as the ONNX export computes: predict and serve answer what the exported file would,
// within 1e-4 (test/deploy-onnx.test.ts); bf16 would not.
const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

export class ImageClassifier {
  readonly model: ClassifierModel;
  readonly config: ModelFolderConfig;
  /** The folder's preprocessing record (what training recorded, or the legacy whole-image resize). */
  readonly preprocessing: PreprocessConfig;

  private constructor(model: ClassifierModel, config: ModelFolderConfig, preprocessing: PreprocessConfig) {
    this.model = model;
    this.config = config;
    this.preprocessing = preprocessing;
  }

  /**
   * Loads a model folder for inference (eval mode, float32).
   *
   * @example
   * const clf = ImageClassifier.load('runs/digits');
   * const [probs] = clf.classify([await clf.pixels('7.png')]);
   * clf.dispose();
   */
  static load(dir: string): ImageClassifier {
    const { model, config, preprocess } = loadModelFolder(dir);
    try {
      checkImageInput(config.model, config.inputSize);
      return new ImageClassifier(model, config, preprocess!);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  get classes(): string[] {
    return this.config.classes;
  }

  /** uint8 CHW pixels at the input size, decoded as the model's preprocessing says. */
  pixels(source: ImageSource): Promise<Uint8Array> {
    return preprocessImageFile(source, this.preprocessing);
  }

  /**
   * Class probabilities for a batch of images (uint8 CHW each), in one libtorch forward. Makes
   * no tensor that outlives the call but the folded weights, made on the first call and freed by dispose().
   */
  classify(images: Uint8Array[]): number[][] {
    const [c, h, w] = this.preprocessing.inputSize;
    const per = c * h * w;
    const batch = new Uint8Array(images.length * per);
    images.forEach((px, i) => {
      if (px.length !== per) throw new TlcvError('ARGUMENT', `Expected ${c}x${h}x${w} = ${per} pixels for ${this.config.model} but received ${px.length}`);
      batch.set(px, i * per);
    });
    const { mean, std } = this.preprocessing;
    const flat = inferenceMode(() =>
      tidy(() => {
        const x = fromTypedArray(batch, [images.length, c, h, w]).float().div_(255);
        const normalized = x.sub_(tensor(mean).reshape([1, c, 1, 1])).div_(tensor(std).reshape([1, c, 1, 1]));
        // Conv + BatchNorm folded, as the ONNX export folds them; the view is made once per model.
        return F.softmax(planForward(this.model, normalized, FP32, { folded: sharedFoldedView(this.model, FP32) }), 1).toFlatArray();
      }),
    );
    const k = this.config.numClasses;
    return images.map((_, i) => flat.slice(i * k, (i + 1) * k));
  }

  dispose(): void {
    this.model.dispose();
  }
}
