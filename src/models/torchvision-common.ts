/**
 * What torchvision's classification models share: ImageNet's statistics, where their weights
 * live, and each family's weight init (run over `namedModules()` in order, as torchvision runs
 * it over `modules()`, so that the draws come in the same order).
 */
import { BatchNorm2d, Conv2d, Linear, init, type Module } from '../nn/index.js';
import type { ModelConfig, PretrainedSource } from './classifier.js';

export const IMAGENET_STATS: Pick<ModelConfig, 'mean' | 'std'> = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/**
 * A file under torchvision's download.pytorch.org/models/, with its sha256 (or the 8-hex prefix
 * that torchvision puts in the name, which is checked as a prefix).
 *
 * @example
 * torchvisionWeights('mobilenet_v3_small-047dcff4.pth', '047dcff4')
 */
export function torchvisionWeights(file: string, sha256: string): PretrainedSource {
  return { url: `https://download.pytorch.org/models/${file}`, sha256, file };
}

/**
 * The init loops of torchvision's EfficientNet, MobileNetV3 and RegNet. They agree on
 * BatchNorm (ones, zeros) and differ in the rest:
 * - efficientnet: conv He-normal (fan_out) with zero bias; Linear U(-1/sqrt(out), 1/sqrt(out)), zero bias;
 * - mobilenet_v3: conv He-normal (fan_out) with zero bias; Linear N(0, 0.01), zero bias;
 * - regnet: conv N(0, sqrt(2 / fan_out)), its bias (squeeze-excitation's) left as built; Linear N(0, 0.01), zero bias.
 */
export type InitScheme = 'efficientnet' | 'mobilenet_v3' | 'regnet';

/**
 * Initialises one layer as `scheme`'s model does; other modules are left alone.
 *
 * @example
 * for (const m of model.namedModules().values()) initTorchvisionLayer(m, 'regnet');
 */
export function initTorchvisionLayer(m: Module, scheme: InitScheme): void {
  if (m instanceof Conv2d) {
    if (scheme === 'regnet') {
      const fanOut = m.kernelSize[0] * m.kernelSize[1] * m.outChannels;
      init.normal_(m.weight, 0, Math.sqrt(2.0 / fanOut));
      return;
    }
    init.kaimingNormal_(m.weight, { mode: 'fan_out' });
    if (m.bias !== null) init.zeros_(m.bias);
  } else if (m instanceof BatchNorm2d && m.weight !== null && m.bias !== null) {
    init.ones_(m.weight);
    init.zeros_(m.bias);
  } else if (m instanceof Linear) {
    if (scheme === 'efficientnet') {
      const range = 1.0 / Math.sqrt(m.outFeatures);
      init.uniform_(m.weight, -range, range);
    } else {
      init.normal_(m.weight, 0, 0.01);
    }
    if (m.bias !== null) init.zeros_(m.bias);
  }
}
