/**
 * A model object's pooled backbone features of image files, decoded with the model's own
 * preprocessing: what `tlcv doctor --model` compares for near duplicates and probes for label
 * errors. Plain fp32 on the CPU, no gradients; nothing outlives a call but the numbers.
 */
import { fromTypedArray, inferenceMode, tensor, tidy } from '../tensor/index.js';
import { planForwardWithFeatures, type ExecutionPlan } from '../execution/index.js';
import type { FeatureFn } from '../doctor/index.js';
import type { Model } from './model.js';

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

/**
 * Features of image files through a model, for `diagnose({ features })`.
 *
 * @example
 * const m = await load('runs/photos');
 * const report = await diagnose('folder:photos', { features: modelFeatures(m) });
 */
export function modelFeatures(m: Model): FeatureFn {
  return async (paths) => {
    const pixels = await Promise.all(paths.map((p) => m.pixels(p)));
    if (pixels.length === 0) return [];
    const module = m.module;
    const cfg = m.preprocess ?? module.config;
    const [c, h, w] = cfg.inputSize;
    const bytes = new Uint8Array(pixels.length * c * h * w);
    pixels.forEach((px, i) => bytes.set(px, i * c * h * w));
    module.eval();
    const flat = inferenceMode(() =>
      tidy(() => {
        const x = fromTypedArray(bytes, [pixels.length, c, h, w]).float().div(255);
        const input = x.sub(tensor(cfg.mean).reshape([1, c, 1, 1])).div(tensor(cfg.std).reshape([1, c, 1, 1]));
        return planForwardWithFeatures(module, input, FP32).features.float().contiguous().toFlatArray();
      }),
    ) as Float32Array | number[];
    const dim = flat.length / pixels.length;
    return pixels.map((_, i) => Float32Array.from(flat.slice(i * dim, (i + 1) * dim)));
  };
}
