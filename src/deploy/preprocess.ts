/**
 * Image to model input, in one place for everything that deploys a model: `tlcv predict`,
 * `tlcv serve` and the exported metadata that the web page reads. The settings carry timm's
 * names (input_size, interpolation, crop_pct, mean, std) plus resize_mode, channels and
 * background, so any runtime can reproduce them: resize to input_size / crop_pct (stretched,
 * or the short side with the aspect kept), crop the centre input_size, flatten transparency
 * over the background, convert to gray or RGB. Mean and std are applied inside the ONNX graph;
 * they are listed for runtimes that feed the libtorch model directly.
 */
import { readFile, stat } from 'node:fs/promises';
import { TlcvError } from '../errors.js';
import { decodeImageBytes } from '../data/index.js';
import type { ModelFolderConfig } from '../transfer/model-folder.js';

export type Interpolation = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos3';

export interface Preprocessing {
  /** [channels, height, width] the model takes. */
  input_size: [number, number, number];
  /** The resampling kernel of the resize (antialiased when shrinking). */
  interpolation: Interpolation;
  /** The image is resized to input_size / crop_pct, then the centre input_size is kept (timm). */
  crop_pct: number;
  /** 'fill' stretches to the size; 'shortest' resizes the short side and keeps the aspect. */
  resize_mode: 'fill' | 'shortest';
  /** 1 (gray: sRGB luminance, as libvips computes it) or 3 (sRGB). */
  channels: 1 | 3;
  /** What transparency is flattened over. */
  background: 'black' | 'white';
  mean: number[];
  std: number[];
}

/**
 * The preprocessing a model folder's images get. Today's folders record input size, mean and
 * std; the rest is what tlcv's decoder does for them (sharp's lanczos3 resize to the input size,
 * no crop, transparency over black).
 *
 * @example
 * const prep = preprocessingFor(readModelConfig('runs/digits'));
 */
export function preprocessingFor(config: ModelFolderConfig): Preprocessing {
  const [c, h, w] = config.inputSize;
  if (c !== 1 && c !== 3) throw new TlcvError('MODEL', `${config.model} takes ${c}-channel input: only 1 (gray) or 3 (RGB) channels can be made from an image`);
  return { input_size: [c, h, w], interpolation: 'lanczos3', crop_pct: 1, resize_mode: 'fill', channels: c, background: 'black', mean: [...config.mean], std: [...config.std] };
}

/** An image to load: a file path, or bytes with a name for messages. */
export type ImageSource = string | { bytes: Uint8Array; name: string };

/**
 * Decodes one image to uint8 CHW pixels at the model's input size, as `prep` says. Every path
 * from an image to a model input in tlcv's deploy commands goes through here; a bad image throws
 * TlcvError('DATA') (or 'FILE' for a missing file) naming it.
 *
 * @example
 * const pixels = await imageToPixels('cat.jpg', prep); // prep.input_size[0] * h * w bytes
 */
export async function imageToPixels(source: ImageSource, prep: Preprocessing): Promise<Uint8Array> {
  const [channels, height, width] = prep.input_size;
  if (prep.crop_pct !== 1 || prep.interpolation !== 'lanczos3') {
    throw new TlcvError('MODEL', `tlcv's decoder resizes with lanczos3 and no crop; this model records interpolation ${prep.interpolation} and crop_pct ${prep.crop_pct}`);
  }
  const fit = prep.resize_mode === 'shortest' ? 'cover' : 'fill';
  const o = { channels, height, width, fit, background: prep.background } as const;
  if (typeof source !== 'string') return decodeImageBytes(source.bytes, source.name, o);
  const isFile = await stat(source).then((s) => s.isFile(), () => false);
  if (!isFile) throw new TlcvError('FILE', `image file ${source} does not exist or is not a file`);
  return decodeImageBytes(await readFile(source), `image file ${source}`, o);
}

/**
 * The preprocessing and class names as ONNX metadata_props (a string-to-string map): strings
 * as they are, lists and numbers as JSON text.
 */
export function preprocessingMetadata(prep: Preprocessing, classes: string[], extra: Record<string, string> = {}): Record<string, string> {
  const entries: [string, unknown][] = [['classes', classes], ...Object.entries(prep), ...Object.entries(extra)];
  return Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
