/**
 * Batch augmentation on float NCHW tensors in [0, 1]. Everything Keras's ImageDataGenerator
 * does (rotation, shifts, shear, zoom, horizontal flip, rescale), plus random resized crop,
 * brightness/contrast jitter and random erasing. Per-sample parameters come from a seeded JS
 * Rng; all geometric parts become one affine map per sample and one batched grid_sample.
 */
import { arange, fromTypedArray, F, invoke, where, type Tensor } from '../tensor/index.js';
import { invokeInPlace } from '../tensor/invoke.js';
import { argumentError } from '../errors.js';
import { Rng } from '../sampling/rng.js';
import { compose, crop, rotation, shear, translation, warp, zoom, IDENTITY, type AffineMap, type FillMode } from '../sampling/affine.js';
import { sampleBox, type Range } from '../sampling/boxes.js';

export interface AugmentOptions {
  /** Multiplies the result (Keras's rescale). Batches are already in [0, 1], so leave it at 1 for them. */
  rescale?: number;
  /** Degrees: r means a random angle in [-r, r]; [lo, hi] is used as is. */
  rotationRange?: number | Range;
  /** Fractions of the width / height: a random shift in [-f, f] of it. */
  widthShiftRange?: number;
  heightShiftRange?: number;
  /** Degrees (Keras's semantics: shear angle, counter-clockwise). */
  shearRange?: number;
  /** z means independent x and y zoom factors in [1 - z, 1 + z] (Keras); above 1 zooms out. */
  zoomRange?: number | Range;
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  /** torchvision's RandomResizedCrop, output size = input size; true for scale [0.08, 1], ratio [3/4, 4/3]. */
  randomResizedCrop?: boolean | { scale?: Range; ratio?: Range };
  /** b means a brightness factor in [1 - b, 1 + b]. */
  brightness?: number;
  /** c means a contrast factor in [1 - c, 1 + c] around each image's mean gray level. */
  contrast?: number;
  /** A probability, or torchvision's RandomErasing settings (scale [0.02, 0.33], ratio [0.3, 3.3], value 0). */
  randomErasing?: number | { p?: number; scale?: Range; ratio?: Range; value?: number };
  /** What fills pixels the warp brings in from outside: 'nearest' (Keras's default), 'constant', 'reflect'. */
  fillMode?: FillMode;
  fillValue?: number;
}

/** One batch's sampled parameters, one entry per sample. */
export interface AugmentParams {
  angle: number[];
  shiftX: number[];
  shiftY: number[];
  shear: number[];
  zoomX: number[];
  zoomY: number[];
  hflip: boolean[];
  vflip: boolean[];
  /** [top, left, height, width] of the crop in input pixels, or null. */
  crop: ([number, number, number, number] | null)[];
  brightness: number[];
  contrast: number[];
  /** [top, left, height, width] of the erased box, or null. */
  erase: ([number, number, number, number] | null)[];
}

interface Resolved {
  rescale: number;
  rotation: Range | null;
  shiftX: number;
  shiftY: number;
  shear: number;
  zoom: Range | null;
  hflip: boolean;
  vflip: boolean;
  crop: { scale: Range; ratio: Range } | null;
  brightness: number;
  contrast: number;
  erasing: { p: number; scale: Range; ratio: Range; value: number } | null;
  fillMode: FillMode;
  fillValue: number;
}

function range(name: string, v: number | Range | undefined, symmetric: (x: number) => Range, check: (r: Range) => boolean, expected: string): Range | null {
  if (v === undefined || v === 0) return null;
  const r = typeof v === 'number' ? symmetric(v) : v;
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isFinite) || r[0] > r[1] || !check(r)) throw argumentError(name, expected, v);
  return r;
}

function nonNegative(name: string, v: number | undefined, max = Infinity): number {
  if (v === undefined) return 0;
  if (!Number.isFinite(v) || v < 0 || v > max) throw argumentError(name, `a number in [0, ${max}]`, v);
  return v;
}

function resolve(o: AugmentOptions): Resolved {
  const rrc = o.randomResizedCrop;
  const er = typeof o.randomErasing === 'number' ? { p: o.randomErasing } : o.randomErasing;
  const cropScale = (typeof rrc === 'object' ? rrc.scale : undefined) ?? [0.08, 1];
  const cropRatio = (typeof rrc === 'object' ? rrc.ratio : undefined) ?? [3 / 4, 4 / 3];
  const rescale = o.rescale ?? 1;
  if (!Number.isFinite(rescale) || rescale === 0) throw argumentError('rescale', 'a finite non-zero number', o.rescale);
  const fill = o.fillMode ?? 'nearest';
  if (!['nearest', 'constant', 'reflect'].includes(fill)) throw argumentError('fillMode', 'nearest, constant or reflect', fill);
  const validRange = (name: string, r: Range, lo: number, hi: number): Range => {
    if (!Array.isArray(r) || r.length !== 2 || !(r[0] > lo && r[0] <= r[1] && r[1] <= hi)) throw argumentError(name, `[low, high] with ${lo} < low <= high <= ${hi}`, r);
    return r;
  };
  const erasing = er === undefined || (er.p ?? 0.5) === 0 ? null : {
    p: nonNegative('randomErasing.p', er.p ?? 0.5, 1),
    scale: validRange('randomErasing.scale', er.scale ?? [0.02, 0.33], 0, 1),
    ratio: validRange('randomErasing.ratio', er.ratio ?? [0.3, 3.3], 0, Infinity),
    value: er.value ?? 0,
  };
  return {
    rescale,
    rotation: range('rotationRange', o.rotationRange, (r) => [-Math.abs(r), Math.abs(r)], (r) => Math.abs(r[0]) <= 360 && Math.abs(r[1]) <= 360, 'degrees in [-360, 360], or [low, high]'),
    shiftX: nonNegative('widthShiftRange', o.widthShiftRange, 1),
    shiftY: nonNegative('heightShiftRange', o.heightShiftRange, 1),
    shear: nonNegative('shearRange', o.shearRange, 89),
    zoom: range('zoomRange', o.zoomRange, (z) => [1 - z, 1 + z], (r) => r[0] > 0, 'z in [0, 1) or [low, high] with 0 < low <= high'),
    hflip: o.horizontalFlip ?? false,
    vflip: o.verticalFlip ?? false,
    crop: rrc ? { scale: validRange('randomResizedCrop.scale', cropScale, 0, 1), ratio: validRange('randomResizedCrop.ratio', cropRatio, 0, Infinity) } : null,
    brightness: nonNegative('brightness', o.brightness, 1),
    contrast: nonNegative('contrast', o.contrast, 1),
    erasing,
    fillMode: fill,
    fillValue: o.fillValue ?? 0,
  };
}

/**
 * @example
 * const aug = new Augmenter({ rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.1 }, 42);
 * const xa = tidy(() => aug.apply(x)); // x: float [N, C, H, W] in [0, 1]
 */
export class Augmenter {
  readonly options: AugmentOptions;
  readonly enabled: boolean;
  readonly #r: Resolved;
  #rng: Rng;

  constructor(o: AugmentOptions = {}, seed = 0) {
    if (!Number.isInteger(seed) || seed < 0) throw argumentError('seed', 'a non-negative integer', seed);
    this.options = { ...o };
    this.#r = resolve(o);
    this.#rng = new Rng(seed, 0xa46);
    const r = this.#r;
    this.enabled = r.rescale !== 1 || this.#geometric || r.hflip || r.vflip || r.brightness > 0 || r.contrast > 0 || r.erasing !== null;
  }

  get #geometric(): boolean {
    const r = this.#r;
    return r.rotation !== null || r.shiftX > 0 || r.shiftY > 0 || r.shear > 0 || r.zoom !== null || r.crop !== null;
  }

  /** Restarts the parameter stream (e.g. per epoch, so a resumed run draws the same parameters). */
  reseed(seed: number, ...streams: number[]): void {
    this.#rng = new Rng(seed, 0xa46, ...streams);
  }

  /** Draws parameters for n samples of size height x width (advances the stream). */
  sample(n: number, height: number, width: number): AugmentParams {
    const r = this.#r;
    const rng = this.#rng;
    const p: AugmentParams = { angle: [], shiftX: [], shiftY: [], shear: [], zoomX: [], zoomY: [], hflip: [], vflip: [], crop: [], brightness: [], contrast: [], erase: [] };
    for (let i = 0; i < n; i += 1) {
      p.angle.push(r.rotation ? rng.uniform(r.rotation[0], r.rotation[1]) : 0);
      p.shiftX.push(r.shiftX > 0 ? rng.uniform(-r.shiftX, r.shiftX) * width : 0);
      p.shiftY.push(r.shiftY > 0 ? rng.uniform(-r.shiftY, r.shiftY) * height : 0);
      p.shear.push(r.shear > 0 ? rng.uniform(-r.shear, r.shear) : 0);
      p.zoomX.push(r.zoom ? rng.uniform(r.zoom[0], r.zoom[1]) : 1);
      p.zoomY.push(r.zoom ? rng.uniform(r.zoom[0], r.zoom[1]) : 1);
      p.hflip.push(r.hflip && rng.chance(0.5));
      p.vflip.push(r.vflip && rng.chance(0.5));
      p.crop.push(r.crop ? sampleBox(rng, height, width, r.crop.scale, r.crop.ratio, false) : null);
      p.brightness.push(r.brightness > 0 ? rng.uniform(1 - r.brightness, 1 + r.brightness) : 1);
      p.contrast.push(r.contrast > 0 ? rng.uniform(1 - r.contrast, 1 + r.contrast) : 1);
      p.erase.push(r.erasing && rng.chance(r.erasing.p) ? sampleBox(rng, height, width, r.erasing.scale, r.erasing.ratio, true) : null);
    }
    return p;
  }

  /** Augments a float NCHW batch in [0, 1] with freshly drawn parameters; disabled returns x itself. */
  apply(x: Tensor): Tensor {
    if (!this.enabled) return x;
    const [n, , h, w] = x.shape as [number, number, number, number];
    return this.applyWith(x, this.sample(n, h, w));
  }

  /** Augments with given parameters (for tests and for showing what a setting does). */
  applyWith(x: Tensor, p: AugmentParams): Tensor {
    const r = this.#r;
    const [n, c, h, w] = x.shape as [number, number, number, number];
    let y = x;
    if (this.#geometric) {
      const maps: AffineMap[] = [];
      for (let i = 0; i < n; i += 1) {
        const box = p.crop[i];
        const outer = box ? crop(box[1] + box[3] / 2 - w / 2, box[0] + box[2] / 2 - h / 2, box[3], box[2], w, h) : IDENTITY;
        // Keras's order: rotation, then shift, shear and zoom (as sampling maps, outermost first);
        // its flips come after the warp, which as a sampling map is innermost, so they cost nothing here.
        let m = compose(outer, rotation(p.angle[i]!));
        m = compose(m, translation(p.shiftX[i]!, p.shiftY[i]!));
        m = compose(m, shear(p.shear[i]!));
        m = compose(m, zoom(p.zoomX[i]!, p.zoomY[i]!));
        maps.push(compose(m, zoom(p.hflip[i] ? -1 : 1, p.vflip[i] ? -1 : 1)));
      }
      y = warp(y, maps, { fill: r.fillMode, fillValue: r.fillValue });
    } else {
      if (p.hflip.some(Boolean)) y = where(this.#mask(p.hflip, y.device), F.flip(y, [3]), y);
      if (p.vflip.some(Boolean)) y = where(this.#mask(p.vflip, y.device), F.flip(y, [2]), y);
    }
    const pointwise = r.brightness > 0 || r.contrast > 0 || (r.erasing !== null && p.erase.some((e) => e !== null)) || r.rescale !== 1;
    if (!pointwise) return y === x ? x.clone() : y;
    // From here on y is ours and changes in place: a fresh batch-sized tensor pays a page fault per
    // 4 KiB on first touch (about 1 ms per MB on the VMs measured), far more than these ops cost.
    if (y === x) y = x.clone();
    const perSample = (v: number[]): Tensor => fromTypedArray(Float32Array.from(v), [n, 1, 1, 1], { device: y.device });
    if (r.brightness > 0) y.mul_(perSample(p.brightness)).clamp_(0, 1);
    if (r.contrast > 0) {
      let mean = y.mean([2, 3], true);
      if (c === 3) mean = mean.mul(fromTypedArray(Float32Array.from([0.299, 0.587, 0.114]), [1, 3, 1, 1], { device: y.device })).sum(1, true);
      else mean = mean.mean(1, true);
      const k = perSample(p.contrast);
      y.mul_(k).add_(mean.mul(k.neg().add(1))).clamp_(0, 1);
    }
    if (r.erasing !== null && p.erase.some((e) => e !== null)) invokeInPlace('masked_fill_.Scalar', [y, this.#eraseMask(p.erase, h, w, y.device), r.erasing.value]);
    if (r.rescale !== 1) y.mul_(r.rescale);
    return y;
  }

  #mask(flags: boolean[], device: string): Tensor {
    return fromTypedArray(Uint8Array.from(flags, Number), [flags.length, 1, 1, 1], { dtype: 'bool', device });
  }

  /** [N, 1, H, W] boolean mask of each sample's erased box, from broadcast comparisons. */
  #eraseMask(boxes: ([number, number, number, number] | null)[], h: number, w: number, device: string): Tensor {
    const n = boxes.length;
    // A sample without a box gets the empty interval [-1, -1).
    const edge = (pick: (e: [number, number, number, number]) => number): Tensor =>
      fromTypedArray(Float32Array.from(boxes, (e) => (e === null ? -1 : pick(e))), [n, 1, 1, 1], { device });
    const rows = arange(0, h, 1, { dtype: 'float32', device }).view([1, 1, h, 1]);
    const cols = arange(0, w, 1, { dtype: 'float32', device }).view([1, 1, 1, w]);
    const and = (a: Tensor, b: Tensor): Tensor => invoke('logical_and', [a, b]) as Tensor;
    const inRows = and(rows.ge(edge((e) => e[0])), rows.lt(edge((e) => e[0] + e[2])));
    const inCols = and(cols.ge(edge((e) => e[1])), cols.lt(edge((e) => e[1] + e[3])));
    return and(inRows, inCols);
  }
}
