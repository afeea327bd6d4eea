/** Small RGB data sets for the zoo's training tests: brightness encodes the class. */
import { checkDataset, type ImageDataset } from '../../src/data/index.js';

/**
 * n RGB images of `size` px, class i % 3, brightness 70 per class step plus a seeded texture.
 *
 * @example
 * const train = brightnessDataset(12); // 3x32x32, classes a, b, c
 */
export function brightnessDataset(n: number, size = 32, seed = 7): ImageDataset {
  const px = 3 * size * size;
  const images = new Uint8Array(n * px);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  let s = seed;
  for (let i = 0; i < images.length; i += 1) {
    s = (s * 1103515245 + 12345) >>> 0;
    images[i] = labels[Math.floor(i / px)]! * 70 + (s >>> 26);
  }
  return checkDataset({ name: 'bright', images, labels, n, channels: 3, height: size, width: size, classes: ['a', 'b', 'c'], source: 'test' });
}
