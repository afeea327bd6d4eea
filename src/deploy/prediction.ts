/**
 * What a model answers about images, in the one shape `tlcv predict --json`, the library's
 * `Model.predict` and `POST /predict` share, and what the server needs of a model: the
 * predictor interface that the model object (src/runs/model.ts) implements.
 */
import { TlcvError } from '../errors.js';
import type { ImageSource } from '../data/index.js';
import type { WebFile } from './web-bundle.js';

export interface TopClass {
  class: string;
  index: number;
  probability: number;
}

/**
 * One image's answer: every class's probability in class order (calibrated, when the model
 * folder has a temperature), and the top k. Where an unknown threshold is in force (a folder
 * calibrated with `--unknown auto`, or `--unknown VALUE`), `score` is the image's open-set score
 * (its largest probability) and `unknown` is true when it is below the threshold: the image
 * belongs to none of the classes. `top` and `probabilities` are there either way. Without a
 * threshold the two fields are absent, as they were before.
 */
export interface Prediction {
  file: string;
  probabilities: number[];
  top: TopClass[];
  unknown?: boolean;
  score?: number;
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
export function describePrediction(file: string, probabilities: number[], classes: string[], k: number, unknownBelow: number | null = null): Prediction {
  const ranked = probabilities.map((probability, index) => ({ class: classes[index] ?? String(index), index, probability }));
  ranked.sort((a, b) => b.probability - a.probability || a.index - b.index);
  const out: Prediction = { file, probabilities, top: ranked.slice(0, Math.max(1, Math.min(k, ranked.length))) };
  if (unknownBelow === null) return out;
  const score = ranked[0]?.probability ?? 0;
  return { ...out, unknown: score < unknownBelow, score };
}

/**
 * When to answer "unknown": never (off), below the model folder's calibrated threshold (auto,
 * the default; a folder without one never does), or below a max probability given as a number.
 */
export type UnknownSetting = 'off' | 'auto' | number;

/**
 * `--unknown off|auto|VALUE` as a setting; VALUE is a probability in (0, 1).
 *
 * @example
 * parseUnknown('0.6'); // 0.6
 */
export function parseUnknown(text: string): UnknownSetting {
  if (text === 'off' || text === 'auto') return text;
  const v = Number(text);
  if (text.trim() === '' || !(v > 0 && v < 1)) throw new TlcvError('ARGUMENT', `--unknown: expected off, auto or a probability in (0, 1), got ${JSON.stringify(text)}`);
  return v;
}

/**
 * The threshold a setting puts in force for a model whose folder recorded `recorded` (null: none).
 *
 * @example
 * unknownThreshold('auto', 0.72); // 0.72
 */
export function unknownThreshold(setting: UnknownSetting, recorded: number | null): number | null {
  if (setting === 'off') return null;
  if (setting === 'auto') return recorded;
  if (!(setting > 0 && setting < 1)) throw new TlcvError('ARGUMENT', `unknown: expected off, auto or a probability in (0, 1), got ${setting}`);
  return setting;
}

/**
 * Probabilities at a temperature, from probabilities at 1: softmax(log p / T), which is
 * softmax(logits / T) (log p is the logits less their log-sum-exp). The engines output
 * probabilities; the exported graph divides its logits instead (the same numbers to float32
 * rounding, except classes whose float32 probability underflowed to 0, which stay 0 here).
 *
 * @example
 * withTemperature([0.9, 0.1], 2); // [0.75, 0.25]
 */
export function withTemperature(probabilities: number[], temperature: number): number[] {
  if (temperature === 1) return probabilities;
  const logs = probabilities.map((p) => Math.log(p) / temperature);
  const max = Math.max(...logs);
  const e = logs.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
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
  /** The max probability below which an image is answered unknown; null or absent: never. */
  readonly unknownThreshold?: number | null;
  /** The offline web page's files for this model (its ONNX export and the page). */
  webFiles(): WebFile[];
  /**
   * Frees what inference keeps between batches (onnxruntime's session and its memory arena,
   * libtorch's folded weights); the next batch makes them again. For a server going idle.
   */
  releaseMemory?(): void;
}
