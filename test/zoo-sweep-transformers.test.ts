// The zoo sweep (test/helpers/zoo-sweep.ts) for ConvNeXt, torchvision's ViT and DINOv2.
import { test } from 'node:test';
import { getModelConfig, listModels } from '../src/models/index.js';
import { sweepModel } from './helpers/zoo-sweep.js';

for (const name of listModels().filter((n) => ['convnext', 'vit', 'dinov2'].includes(getModelConfig(n).arch))) {
  test(`zoo: ${name} builds, runs, round-trips its state dict and resets its head`, () => sweepModel(name));
}
