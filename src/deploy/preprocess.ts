/**
 * The preprocessing a deployed model carries outside tlcv: the model folder's record
 * (`PreprocessConfig`, the one record training wrote) as ONNX metadata_props, with timm's key
 * names (input_size, interpolation, crop_pct, crop_mode, mean, std) plus tlcv's resize and
 * background, so any runtime can reproduce it: turn the image upright, flatten transparency
 * over the background, convert to gray or RGB, resize to cover input_size / crop_pct (the
 * aspect kept, or stretched under resize "fill"), crop the centre input_size. The web page
 * reads exactly these keys (src/deploy/web/preprocess.js). Mean and std are applied inside the
 * ONNX graph; they are listed for runtimes that feed the libtorch model directly.
 *
 * Pixels come from data's `preprocessImageFile`, the function evaluation runs: deploy has no
 * decoder of its own.
 */
import { TlcvError } from '../errors.js';
import { serializePreprocess, type PreprocessConfig } from '../data/index.js';

/**
 * Checks that images can become a model's input (gray or RGB): a model built for other channel
 * counts can be trained on tensors but not fed from image files.
 *
 * @example
 * checkImageInput('seed-cnn', [1, 28, 28]);
 */
export function checkImageInput(model: string, inputSize: readonly number[]): void {
  const c = inputSize[0];
  if (c !== 1 && c !== 3) throw new TlcvError('MODEL', `${model} takes ${c}-channel input: only 1 (gray) or 3 (RGB) channels can be made from an image`);
}

/**
 * The preprocessing record and class names as ONNX metadata_props (a string-to-string map):
 * strings as they are, lists and numbers as JSON text. The training-only part of the record
 * (random crops) is left out.
 *
 * @example
 * preprocessingMetadata(preprocess, ['cat', 'dog']).crop_pct; // "0.875"
 */
export function preprocessingMetadata(prep: PreprocessConfig, classes: string[], extra: Record<string, string> = {}): Record<string, string> {
  const { train: _train, ...inference } = serializePreprocess(prep);
  const entries: [string, unknown][] = [['classes', classes], ...Object.entries(inference), ...Object.entries(extra)];
  return Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
