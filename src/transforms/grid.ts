/**
 * A PNG grid of original and augmented samples, so a person can see what a setting does
 * before training with it: one row per sample, the original first, then augmented copies.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { fromTypedArray, tidy } from '../tensor/index.js';
import { argumentError } from '../errors.js';
import { Rng } from '../sampling/rng.js';
import { writeFileAtomicAsync } from '../io/atomic-write.js';
import type { Augmenter } from './augment.js';

export interface GridOptions {
  /** Samples (rows). */
  n?: number;
  /** Augmented copies per sample (columns after the original). */
  variants?: number;
  /** Picks the samples. */
  seed?: number;
  /** Smallest tile side in pixels; small images are enlarged (nearest neighbour) to it. */
  minTile?: number;
}

const GAP = 2;

/** What the grid needs of a dataset (an ImageDataset is one): uint8 NCHW images and their shape. */
export interface GridImages {
  images: Uint8Array;
  n: number;
  channels: number;
  height: number;
  width: number;
}

/**
 * @example
 * await writeAugmentationGrid(train, new Augmenter(parseAugment('light'), 1), 'runs/aug.png', { n: 8 });
 */
export async function writeAugmentationGrid(ds: GridImages, augmenter: Augmenter, outPath: string, o: GridOptions = {}): Promise<void> {
  const n = Math.min(o.n ?? 8, ds.n);
  const variants = o.variants ?? 7;
  if (!Number.isInteger(n) || n < 1) throw argumentError('n', 'a positive integer (and a non-empty dataset)', o.n ?? ds.n);
  if (!Number.isInteger(variants) || variants < 1 || variants > 64) throw argumentError('variants', 'an integer in [1, 64]', variants);
  const picks = new Rng(o.seed ?? 0, 0x9e1d).permutation(ds.n).subarray(0, n);
  const { channels: c, height: h, width: w } = ds;
  const size = c * h * w;
  const cols = 1 + variants;
  // Row-major: each sample, then its augmented copies.
  const batch = new Uint8Array(n * cols * size);
  picks.forEach((idx, r) => {
    for (let k = 0; k < cols; k += 1) batch.set(ds.images.subarray(idx * size, (idx + 1) * size), (r * cols + k) * size);
  });
  const augmented = tidy(() => {
    const x = fromTypedArray(batch, [n * cols, c, h, w]).float().div_(255);
    const y = augmenter.apply(x);
    return y.clamp(0, 1).mul(255).unary('round').to('uint8').toTypedArray() as Uint8Array;
  });
  // Column 0 keeps the original.
  picks.forEach((_idx, r) => augmented.set(batch.subarray(r * cols * size, (r * cols + 1) * size), r * cols * size));
  const gw = cols * w + (cols + 1) * GAP;
  const gh = n * h + (n + 1) * GAP;
  const grid = new Uint8Array(gw * gh * c).fill(128);
  for (let r = 0; r < n; r += 1) {
    for (let k = 0; k < cols; k += 1) {
      const tile = (r * cols + k) * size;
      const y0 = GAP + r * (h + GAP);
      const x0 = GAP + k * (w + GAP);
      for (let ch = 0; ch < c; ch += 1) {
        for (let y = 0; y < h; y += 1) {
          for (let x = 0; x < w; x += 1) grid[((y0 + y) * gw + x0 + x) * c + ch] = augmented[tile + ch * h * w + y * w + x]!;
        }
      }
    }
  }
  const scale = Math.max(1, Math.ceil((o.minTile ?? 64) / Math.max(h, w)));
  let img = sharp(grid, { raw: { width: gw, height: gh, channels: c as 1 | 3 } });
  if (scale > 1) img = img.resize(gw * scale, gh * scale, { kernel: 'nearest' });
  const png = await img.png().toBuffer();
  await mkdir(dirname(outPath), { recursive: true });
  await writeFileAtomicAsync(outPath, png);
}
