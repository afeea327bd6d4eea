/** The doctor's counting checks: class balance per split, image sizes, and colour modes. */
import type { ImageMode, ScannedImage } from './scan.js';

/** A split's largest class over its smallest at or above this is reported as imbalanced. */
export const IMBALANCE_RATIO = 3;

export interface Imbalance {
  split: string;
  counts: number[];
  /** Largest class count over the smallest non-empty one. */
  ratio: number;
  /** Classes with no image in this split. */
  empty: number[];
  /**
   * Per-class loss weights that balance this split: n / (C n_c), scikit-learn's and Keras's
   * "balanced" weights (0 for an empty class).
   */
  weights: number[];
  imbalanced: boolean;
}

/**
 * Counts per class in each split, their ratio and the weights that would balance them.
 *
 * @example
 * classBalance(images, ['train', 'test'], 3);
 */
export function classBalance(images: ScannedImage[], splits: string[], numClasses: number): Imbalance[] {
  return splits.map((split) => {
    const counts = new Array<number>(numClasses).fill(0);
    for (const im of images) if (im.split === split) counts[im.label]! += 1;
    const nonEmpty = counts.filter((c) => c > 0);
    const total = nonEmpty.reduce((a, b) => a + b, 0);
    const ratio = nonEmpty.length > 0 ? Math.max(...nonEmpty) / Math.min(...nonEmpty) : 1;
    const empty = counts.flatMap((c, i) => (c === 0 ? [i] : []));
    const weights = counts.map((c) => (c > 0 ? total / (nonEmpty.length * c) : 0));
    return { split, counts, ratio, empty, weights, imbalanced: ratio >= IMBALANCE_RATIO || (empty.length > 0 && total > 0) };
  });
}

export interface SizeReport {
  /** The median width and height. */
  median: [number, number];
  /** Images with a side under a quarter of the median's (or under 8 px). */
  tiny: number[];
  /** Images over 16 times the median's pixels and over 4 megapixels, or over 40 megapixels. */
  huge: number[];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/** Images far smaller or larger than the folder's median size. */
export function sizeOutliers(images: ScannedImage[]): SizeReport {
  const mw = median(images.map((i) => i.width));
  const mh = median(images.map((i) => i.height));
  const tiny: number[] = [];
  const huge: number[] = [];
  images.forEach((im, i) => {
    const px = im.width * im.height;
    if (im.width < Math.max(8, mw / 4) || im.height < Math.max(8, mh / 4)) tiny.push(i);
    else if ((px > 16 * mw * mh && px > 4e6) || px > 40e6) huge.push(i);
  });
  return { median: [mw, mh], tiny, huge };
}

export interface ModeReport {
  counts: Record<ImageMode, number>;
  /** More than one of gray, RGB and alpha. */
  mixed: boolean;
  /** The images not in the most common mode. */
  minority: number[];
}

/** Gray, RGB and alpha images: training converts them all to one, so a mix is worth knowing. */
export function colourModes(images: ScannedImage[]): ModeReport {
  const counts: Record<ImageMode, number> = { gray: 0, rgb: 0, alpha: 0 };
  for (const im of images) counts[im.mode] += 1;
  const modes = (Object.keys(counts) as ImageMode[]).filter((m) => counts[m] > 0);
  const top = modes.reduce<ImageMode>((a, b) => (counts[b] > counts[a] ? b : a), 'rgb');
  const minority = modes.length > 1 ? images.flatMap((im, i) => (im.mode !== top ? [i] : [])) : [];
  return { counts, mixed: modes.length > 1, minority };
}
