/**
 * Models for the engine tests: a freshly initialised model predicts nearly uniform
 * probabilities and has BatchNorm statistics of 0 and 1, which would make engine parity weak.
 * `spread` draws random BatchNorm statistics and affine parameters (so folding is exercised)
 * and scales a Linear classifier so that the images' logits spread over a few units.
 */
import { createModel, getModelConfig, type ClassifierModel } from '../../src/models/index.js';
import { BatchNorm2d, Linear } from '../../src/nn/index.js';
import { fromTypedArray, inferenceMode, manualSeed, noGrad, rand, randn, tensor, tidy } from '../../src/tensor/index.js';
import { legacyPreprocess, type PreprocessConfig } from '../../src/data/index.js';

/** A small input the model accepts: its minimum, raised to 32 px where that is below its default. */
export function smallInput(name: string): [number, number] {
  const c = getModelConfig(name);
  // A ViT's side is a whole number of patches (DINOv2's 14 px: 42, not 32).
  const patch = Number(c.options.patchSize ?? 1);
  const side = (i: 1 | 2): number => Math.min(c.inputSize[i], Math.ceil(Math.max(c.minInputSize[i], 32) / patch) * patch);
  return [side(1), side(2)];
}

/** Patterned uint8 CHW images of the model's input size, different from one another. */
export function patternImages(inputSize: readonly number[], n: number): Uint8Array[] {
  const [c, h, w] = inputSize as [number, number, number];
  return Array.from({ length: n }, (_, k) =>
    Uint8Array.from({ length: c * h * w }, (_, i) => {
      const x = i % w;
      const y = Math.floor(i / w) % h;
      const ch = Math.floor(i / (h * w));
      return (128 + 110 * Math.sin((x * (k + 1)) / 5 + ch + k) * Math.cos((y * (ch + 2)) / 7)) & 255;
    }),
  );
}

/**
 * Random BatchNorm statistics and a classifier scaled so that `images` give logits of about
 * `logitStd`; false when the classifier is no Linear (left as it is).
 */
export function spread(model: ClassifierModel, images: Uint8Array[], logitStd = 3): boolean {
  model.eval();
  noGrad(() =>
    tidy(() => {
      for (const m of model.namedModules().values()) {
        if (!(m instanceof BatchNorm2d)) continue;
        m.runningMean!.copy_(randn([m.numFeatures]).mul(0.1));
        m.runningVar!.copy_(rand([m.numFeatures]).add(0.5));
        m.weight?.copy_(rand([m.numFeatures]).add(0.5));
        m.bias?.copy_(randn([m.numFeatures]).mul(0.1));
      }
    }),
  );
  const fc = model.getSubmodule(model.config.classifier);
  if (!(fc instanceof Linear)) return false;
  // torchvision's ViT starts its head at zero: no scaling spreads a zero weight.
  noGrad(() => tidy(() => (fc.weight.abs().max().item() === 0 ? void fc.weight.copy_(randn(fc.weight.shape).mul(0.02)) : undefined)));
  const c = model.config;
  const [ch, h, w] = c.inputSize;
  const batch = new Uint8Array(images.length * ch * h * w);
  images.forEach((p, i) => batch.set(p, i * p.length));
  const std = inferenceMode(() =>
    tidy(() => {
      const x = fromTypedArray(batch, [images.length, ch, h, w]).float().div(255);
      const normalized = x.sub(tensor(c.mean).reshape([1, ch, 1, 1])).div(tensor(c.std).reshape([1, ch, 1, 1]));
      return model.forward(normalized).std().item();
    }),
  );
  const k = logitStd / Math.max(std, 1e-6);
  noGrad(() => {
    fc.weight.mul_(k);
    fc.bias?.mul_(k);
  });
  return true;
}

/** A zoo model at a small input with spread logits, its preprocessing record, and images for it. */
export function spreadZooModel(name: string, o: { numClasses?: number; images?: number; seed?: number } = {}): { model: ClassifierModel; preprocess: PreprocessConfig; images: Uint8Array[]; spread: boolean } {
  manualSeed(o.seed ?? 3);
  const model = createModel(name, { numClasses: o.numClasses ?? 5, inputSize: smallInput(name) });
  const images = patternImages(model.config.inputSize, o.images ?? 3);
  const spreadOut = spread(model, images);
  return { model, preprocess: legacyPreprocess(model.config), images, spread: spreadOut };
}
