/** Class probabilities for raw images: the inference end of the forward recipe. */
import { F, fromTypedArray, inferenceMode, tensor, tidy, type Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';
import { planForward } from './forward.js';
import { sharedFoldedView } from './folded.js';
import type { ExecutionPlan } from './precision.js';

export interface PredictOptions {
  /** The plan to run under; without one, plain fp32 (a few images do not repay timing plans). */
  plan?: ExecutionPlan | null;
  /** Input size and normalisation, when they are not the model's own (a model folder's config). */
  input?: { inputSize: [number, number, number]; mean: number[]; std: number[]; model?: string };
  /** Test-time augmentation: average the probabilities of each image and its mirror image (ttaProbabilities). */
  tta?: boolean;
}

/**
 * Softmax probabilities of `forward` on `x`, or with test-time augmentation the mean of those
 * on `x` and on `x` mirrored left to right (fastai's `tta` and timm's flip averaging use the
 * same flip; tlcv's training crops flip the same way).
 *
 * @example
 * const probs = ttaProbabilities((x) => model.forward(x), batch, true);
 */
export function ttaProbabilities(forward: (x: Tensor) => Tensor, x: Tensor, tta: boolean): Tensor {
  const p = F.softmax(forward(x), 1);
  return tta ? p.add(F.softmax(forward(F.flip(x, [3])), 1)).div(2) : p;
}

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

/**
 * Softmax probabilities for uint8 CHW images at the model's input size, normalised with its mean
 * and std, in one batch, through the model's shared folded view for the plan (see
 * sharedFoldedView: kept until the weights change or the model is disposed). Makes no other
 * tensor that outlives it.
 *
 * @example
 * const [probs] = predictImages(model, [await decodeImage('7.png', { channels: 1, height: 28, width: 28 })]);
 */
export function predictImages(model: ClassifierModel, images: Uint8Array[], o: PredictOptions = {}): number[][] {
  const cfg = o.input ?? model.config;
  const [c, h, w] = cfg.inputSize;
  const size = c * h * w;
  const name = o.input?.model ?? model.config.name;
  const bytes = new Uint8Array(images.length * size);
  images.forEach((img, i) => {
    if (img.length !== size) throw new TlcvError('ARGUMENT', `Expected ${c}x${h}x${w} = ${size} pixels for ${name} but received ${img.length}`);
    bytes.set(img, i * size);
  });
  if (images.length === 0) return [];
  const flat = inferenceMode(() =>
    tidy(() => {
      const x = fromTypedArray(bytes, [images.length, c, h, w]).float().div(255);
      const mean = tensor(cfg.mean).reshape([1, c, 1, 1]);
      const std = tensor(cfg.std).reshape([1, c, 1, 1]);
      const input = x.sub(mean).div(std);
      const plan = o.plan ?? FP32;
      const folded = sharedFoldedView(model, plan);
      return ttaProbabilities((v) => planForward(model, v, plan, { folded }), input, o.tta === true).toFlatArray();
    }),
  );
  const k = flat.length / images.length;
  return images.map((_, i) => flat.slice(i * k, (i + 1) * k));
}
