/**
 * Crop boxes as torchvision draws and places them: RandomResizedCrop's and RandomErasing's
 * box sampling, CenterCrop's placement and Resize's output size for an int size. Pure
 * arithmetic on pixel counts, so the batch augmenter (on tensors) and the photo pipeline
 * (on files, before any pixel is decoded) share one definition.
 */
import type { Rng } from './rng.js';

export type Range = [number, number];

/** [top, left, height, width] in pixels. */
export type Box = [number, number, number, number];

/**
 * Python's round(): halves go to the even neighbour. torchvision's CenterCrop places its
 * box with it, so an odd margin splits the way PyTorch splits it.
 */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * torchvision's box sampling (RandomResizedCrop.get_params, RandomErasing.get_params): ten
 * tries at a random area and aspect ratio. strict (RandomErasing) needs the box strictly
 * inside and returns null when no try fits; otherwise the fallback is RandomResizedCrop's
 * centre crop at the nearest allowed ratio.
 *
 * @example
 * const [top, left, h, w] = sampleBox(new Rng(1), 256, 341, [0.08, 1], [3 / 4, 4 / 3], false)!;
 */
export function sampleBox(rng: Rng, h: number, w: number, scale: Range, ratio: Range, strict: boolean): Box | null {
  const area = h * w;
  const logRatio: Range = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const bw = Math.round(Math.sqrt(target * aspect));
    const bh = Math.round(Math.sqrt(target / aspect));
    const fits = strict ? bw < w && bh < h : bw <= w && bh <= h;
    if (bw > 0 && bh > 0 && fits) return [rng.int(h - bh + 1), rng.int(w - bw + 1), bh, bw];
  }
  if (strict) return null;
  const r = w / h;
  const [cw, ch] = r < ratio[0] ? [w, Math.round(w / ratio[0])] : r > ratio[1] ? [Math.round(h * ratio[1]), h] : [w, h];
  return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
}

/**
 * torchvision's CenterCrop box of (ch, cw) in an image of (h, w); the crop must fit (tlcv
 * never pads: the stored form always covers the crop).
 *
 * @example
 * centerBox(256, 341, 224, 224); // [16, 58, 224, 224]
 */
export function centerBox(h: number, w: number, ch: number, cw: number): Box {
  return [roundHalfEven((h - ch) / 2), roundHalfEven((w - cw) / 2), Math.min(ch, h), Math.min(cw, w)];
}

/**
 * The size torchvision's Resize(size) gives an image of (h, w) for an int size: the
 * shorter side becomes size, the longer one int(size * long / short), so the aspect ratio
 * is kept to within a pixel.
 *
 * @example
 * shorterSideSize(3024, 4032, 256); // [256, 341]
 */
export function shorterSideSize(h: number, w: number, size: number): [number, number] {
  if (h <= w) return [size, Math.max(1, Math.floor((size * w) / h))];
  return [Math.max(1, Math.floor((size * h) / w)), size];
}
