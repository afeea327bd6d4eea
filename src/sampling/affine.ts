/**
 * 2-D affine maps for batched warps. A map sends an OUTPUT pixel position to the INPUT position
 * it samples (as scipy's affine_transform, which Keras uses, and affine_grid do), in pixels
 * from the image centre, x to the right and y down. `warp` turns per-sample maps into one
 * affine_grid + grid_sample call for the whole batch.
 */
import { F, fromTypedArray, type Tensor } from '../tensor/index.js';

/** [a, b, tx, c, d, ty]: input = [[a, b], [c, d]] * output + [tx, ty]. */
export type AffineMap = [number, number, number, number, number, number];

export const IDENTITY: AffineMap = [1, 0, 0, 0, 1, 0];
const RAD = Math.PI / 180;

/** The map that applies `inner` to an output position, then `outer` (outer(inner(p))). */
export function compose(outer: AffineMap, inner: AffineMap): AffineMap {
  const [a1, b1, t1, c1, d1, u1] = outer;
  const [a2, b2, t2, c2, d2, u2] = inner;
  return [a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, a1 * t2 + b1 * u2 + t1, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2, c1 * t2 + d1 * u2 + u1];
}

/** Rotates the content counter-clockwise by deg (as torchvision's rotate does). */
export function rotation(deg: number): AffineMap {
  const c = Math.cos(deg * RAD);
  const s = Math.sin(deg * RAD);
  return [c, -s, 0, s, c, 0];
}

/** Moves the content by (dx, dy) pixels (right and down for positive values). */
export function translation(dx: number, dy: number): AffineMap {
  return [1, 0, -dx, 0, 1, -dy];
}

/** Keras's shear: the angle in degrees, matrix [[1, -sin], [0, cos]] on (row, column). */
export function shear(deg: number): AffineMap {
  const s = Math.sin(deg * RAD);
  const c = Math.cos(deg * RAD);
  return [c, 0, 0, -s, 1, 0];
}

/** Keras's zoom: values above 1 sample a larger area, so the content shrinks. */
export function zoom(zx: number, zy: number): AffineMap {
  return [zx, 0, 0, 0, zy, 0];
}

/** Samples the crop of size (cw, ch) centred at (cx, cy) (pixels from the centre) over the whole output. */
export function crop(cx: number, cy: number, cw: number, ch: number, width: number, height: number): AffineMap {
  return [cw / width, 0, cx, 0, ch / height, cy];
}

export type FillMode = 'nearest' | 'constant' | 'reflect';

/** affine_grid's theta, in coordinates normalised to [-1, 1] (align_corners=False), for each map. */
export function thetaFor(maps: AffineMap[], height: number, width: number): Tensor {
  const theta = new Float32Array(maps.length * 6);
  maps.forEach(([a, b, tx, c, d, ty], i) => {
    theta.set([a, (b * height) / width, (2 * tx) / width, (c * width) / height, d, (2 * ty) / height], i * 6);
  });
  return fromTypedArray(theta, [maps.length, 2, 3]);
}

/**
 * Warps a float NCHW batch, one map per sample, in one affine_grid + grid_sample call.
 * fill: 'nearest' repeats the edge (Keras's default), 'constant' fills with fillValue,
 * 'reflect' mirrors.
 */
export function warp(x: Tensor, maps: AffineMap[], o: { fill?: FillMode; fillValue?: number } = {}): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const theta = thetaFor(maps, h, w);
  const grid = F.affineGrid(theta.to(x.device), [n, c, h, w], false);
  const fill = o.fill ?? 'nearest';
  if (fill === 'constant' && (o.fillValue ?? 0) !== 0) {
    const v = o.fillValue ?? 0;
    return F.gridSample(x.sub(v), grid, { paddingMode: 'zeros' }).add(v);
  }
  return F.gridSample(x, grid, { paddingMode: fill === 'nearest' ? 'border' : fill === 'reflect' ? 'reflection' : 'zeros' });
}
