/**
 * Model folders and photos for the deploy tests. A freshly initialised model predicts nearly
 * uniform probabilities and has BatchNorm statistics of 0 and 1, which would make parity
 * checks weak: the fixture draws random BatchNorm statistics and affine parameters (so folding
 * is exercised) and scales the classifier so the test images' logits spread over a few units.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createModel, type CreateModelOptions } from '../../src/models/index.js';
import { manualSeed } from '../../src/tensor/index.js';
import { spread } from './engine-fixture.js';
import { saveModelFolder } from '../../src/runs/index.js';
import { legacyPreprocess, preprocessImageFile, type PreprocessConfig } from '../../src/data/index.js';

export const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel'];

/** Smooth colour patterns with edges, of assorted sizes and aspects (some with transparency). */
export async function writePhotos(dir: string, n = 3): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const sizes: [number, number][] = [
    [300, 200],
    [160, 240],
    [97, 131],
    [640, 480],
    [48, 40],
  ];
  const files: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const [w, h] = sizes[i % sizes.length]!;
    const px = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const p = 4 * (y * w + x);
        px[p] = 128 + 120 * Math.sin((x * (i + 1)) / 17 + i);
        px[p + 1] = 128 + 120 * Math.cos((y * (i + 2)) / 23);
        px[p + 2] = (x + y) * (i + 1) < w ? 220 : 30;
        px[p + 3] = i === 2 && x < w / 4 ? 96 : 255;
      }
    }
    const file = join(dir, `photo${i}.png`);
    await sharp(px, { raw: { width: w, height: h, channels: 4 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

/**
 * Saves a zoo model with random BatchNorm statistics and a classifier scaled so that the logits
 * of `photos` have a standard deviation of about `logitStd`. Its preprocessing record is
 * `preprocess(config)` (default: the whole-image resize of folders written before records).
 */
export async function writeModelFolder(
  dir: string,
  name: string,
  photos: string[],
  o: CreateModelOptions & { seed?: number; logitStd?: number; preprocess?: (c: { inputSize: [number, number, number]; mean: number[]; std: number[] }) => PreprocessConfig } = {},
): Promise<void> {
  // saveModelFolder no longer makes its folder (since f1d67fd); the fixtures' folders are new.
  mkdirSync(dir, { recursive: true });
  manualSeed(o.seed ?? 1);
  const model = createModel(name, { numClasses: CLASSES.length, ...o });
  const prep = (o.preprocess ?? legacyPreprocess)(model.config);
  const pixels = await Promise.all(photos.map((f) => preprocessImageFile(f, prep)));
  spread(model, pixels, o.logitStd ?? 3);
  saveModelFolder(dir, model, { classes: CLASSES, preprocess: prep });
  model.dispose();
}
