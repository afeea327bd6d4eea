/**
 * What a model answers about images, in the one shape `tlcv predict --json`, the library's
 * `Model.predict` and `POST /predict` share, and what the server needs of a model: the
 * predictor interface that the model object (src/runs/model.ts) implements.
 */
import type { ImageSource } from '../data/index.js';
import type { WebFile } from './web-bundle.js';

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

/**
 * What serving needs of a model: its classes, the one preprocessing path (an image to uint8
 * pixels at the input size, as evaluation makes them), the one forward path (a batch of such
 * pixels to class probabilities), and the offline page's files. The model object implements it.
 */
export interface ImagePredictor {
  /** The architecture, for /healthz and log lines. */
  readonly name: string;
  readonly classes: string[];
  /** uint8 CHW pixels at the input size, decoded as the model's preprocessing record says. */
  pixels(source: ImageSource): Promise<Uint8Array>;
  /** Class probabilities for a batch of pixels, in one forward. */
  classify(images: Uint8Array[]): number[][];
  /** The offline web page's files for this model (its ONNX export and the page). */
  webFiles(): WebFile[];
  /**
   * Frees what inference keeps between batches (onnxruntime's session and its memory arena,
   * libtorch's folded weights); the next batch makes them again. For a server going idle.
   */
  releaseMemory?(): void;
}
