/**
 * Shifted target domains: the same images rotated, translated, inverted or noisy, to test
 * how a model transfers across a controlled domain gap. Geometry runs as one native warp per
 * chunk; random angles, offsets and noise come from the JS Rng, so a seed fixes the result.
 */
import { fromTypedArray, type Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import { compose, rotation, translation, warp, type AffineMap } from '../sampling/affine.js';
import type { ImageDataset } from './dataset.js';
import { mapImages } from './image-ops.js';
import { Rng } from '../sampling/rng.js';

export interface ShiftOptions {
  /** Degrees counter-clockwise: a fixed angle, or [low, high] for a random angle per image. */
  rotate?: number | [number, number];
  /** Fraction of the size to move right and down: fixed, or [low, high] drawn per image and axis. */
  translate?: number | [number, number];
  /** x -> 1 - x (white digits on black become black on white). */
  invert?: boolean;
  /** Standard deviation of added Gaussian noise, with pixels in [0, 1]. */
  noise?: number;
}

function draw(rng: Rng, v: number | [number, number] | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : rng.uniform(v[0], v[1]);
}

function checkShift(o: ShiftOptions): void {
  const ok = (v: number | [number, number] | undefined, limit: number): boolean =>
    v === undefined || (typeof v === 'number' ? Math.abs(v) <= limit : v.length === 2 && v[0] <= v[1] && Math.abs(v[0]) <= limit && Math.abs(v[1]) <= limit);
  if (!ok(o.rotate, 360)) throw new TlcvError('ARGUMENT', `Expected degrees in [-360, 360] (or [low, high]) for shift rotate but received ${JSON.stringify(o.rotate)}`);
  if (!ok(o.translate, 1)) throw new TlcvError('ARGUMENT', `Expected a fraction in [-1, 1] (or [low, high]) for shift translate but received ${JSON.stringify(o.translate)}`);
  if (o.noise !== undefined && !(o.noise >= 0 && o.noise <= 1)) throw new TlcvError('ARGUMENT', `Expected a standard deviation in [0, 1] for shift noise but received ${o.noise}`);
}

/** "rotate:30+invert" for names and reports. */
export function describeShift(o: ShiftOptions): string {
  const v = (x: number | [number, number]): string => (typeof x === 'number' ? `${x}` : `${x[0]}:${x[1]}`);
  const parts: string[] = [];
  if (o.rotate !== undefined) parts.push(`rotate:${v(o.rotate)}`);
  if (o.translate !== undefined) parts.push(`translate:${v(o.translate)}`);
  if (o.invert) parts.push('invert');
  if (o.noise !== undefined) parts.push(`noise:${o.noise}`);
  return parts.join('+');
}

/**
 * A shifted copy of a dataset (labels unchanged). Order: rotate and translate (one warp,
 * edges repeated), invert, then noise; values are clamped to [0, 1] and stored as uint8.
 *
 * @example
 * const rotated = shiftDomain(mnistTest, { rotate: 30 }, 0);
 * const messy = shiftDomain(mnistTest, { rotate: [-45, 45], noise: 0.1 }, 7);
 */
export function shiftDomain(ds: ImageDataset, o: ShiftOptions, seed: number): ImageDataset {
  checkShift(o);
  if (!Number.isInteger(seed) || seed < 0) throw new TlcvError('ARGUMENT', `Expected a non-negative integer for seed but received ${seed}`);
  const geoRng = new Rng(seed, 0x51);
  const noiseRng = new Rng(seed, 0x52);
  const geometric = o.rotate !== undefined || o.translate !== undefined;
  const images = mapImages(ds, ds, (x: Tensor) => {
    const b = x.shape[0]!;
    let y = x;
    if (geometric) {
      const maps: AffineMap[] = [];
      for (let i = 0; i < b; i += 1) {
        const angle = draw(geoRng, o.rotate);
        const dx = draw(geoRng, o.translate) * ds.width;
        const dy = (typeof o.translate === 'number' ? o.translate : draw(geoRng, o.translate)) * ds.height;
        // Sampling maps run backwards: undo the move, then undo the rotation about the centre.
        maps.push(compose(rotation(angle), translation(dx, dy)));
      }
      y = warp(y, maps, { fill: 'nearest' });
    }
    if (o.invert) y = y.neg().add(1);
    if (o.noise !== undefined && o.noise > 0) {
      const noise = new Float32Array(y.numel);
      for (let i = 0; i < noise.length; i += 1) noise[i] = noiseRng.normal() * o.noise;
      y = y.add(fromTypedArray(noise, y.shape));
    }
    return y.clamp(0, 1);
  });
  const tag = describeShift(o);
  return { ...ds, images, name: `${ds.name}@shift=${tag},seed=${seed}`, source: `${ds.source} (shifted: ${tag}, seed ${seed})` };
}
