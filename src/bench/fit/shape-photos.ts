/**
 * A small, learnable photo folder made where it is needed (the tests, and the fit bench's photo
 * scenario): each class is a shape (disc, square,
 * triangle, ...) drawn at a random place, size, colour and angle over a random gradient with
 * distractor blobs and JPEG grain; each class also has its own hue family (with jitter), as real
 * classes differ in colour as well as in form. It stands in
 * for the folders of a few dozen phone photos: too little data for a default batch of
 * 128, enough for a small CNN given enough optimiser steps. Deterministic for a seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../sampling/rng.js';

export const SHAPES = ['disc', 'square', 'triangle', 'cross', 'ring', 'bar'] as const;

function colour(rng: Rng): string {
  return `rgb(${rng.int(256)},${rng.int(256)},${rng.int(256)})`;
}

function shapeSvg(kind: (typeof SHAPES)[number], cx: number, cy: number, r: number, angle: number, fill: string): string {
  const t = `transform="rotate(${angle.toFixed(1)} ${cx.toFixed(1)} ${cy.toFixed(1)})"`;
  switch (kind) {
    case 'disc':
      return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
    case 'square':
      return `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${fill}" ${t}/>`;
    case 'triangle':
      return `<polygon points="${cx},${cy - r} ${cx - 0.9 * r},${cy + 0.8 * r} ${cx + 0.9 * r},${cy + 0.8 * r}" fill="${fill}" ${t}/>`;
    case 'cross':
      return `<g ${t} fill="${fill}"><rect x="${cx - r}" y="${cy - r / 3}" width="${2 * r}" height="${(2 * r) / 3}"/><rect x="${cx - r / 3}" y="${cy - r}" width="${(2 * r) / 3}" height="${2 * r}"/></g>`;
    case 'ring':
      return `<circle cx="${cx}" cy="${cy}" r="${0.8 * r}" fill="none" stroke="${fill}" stroke-width="${0.4 * r}"/>`;
    case 'bar':
      return `<rect x="${cx - r}" y="${cy - r / 4}" width="${2 * r}" height="${r / 2}" fill="${fill}" ${t}/>`;
  }
}

/** The JPEG bytes of photo `seed` of class `cls` (an index into SHAPES). */
export async function shapePhoto(cls: number, seed: number, width = 480, height = 360): Promise<Buffer> {
  const rng = new Rng(seed * 131 + cls, 0x5a9e);
  const side = Math.min(width, height);
  const blobs = Array.from({ length: 3 }, () => `<ellipse cx="${rng.uniform(0, width)}" cy="${rng.uniform(0, height)}" rx="${rng.uniform(0.04, 0.12) * side}" ry="${rng.uniform(0.04, 0.12) * side}" fill="${colour(rng)}" opacity="0.7"/>`);
  const r = rng.uniform(0.2, 0.34) * side;
  // Each class has its own hue family too, as real classes differ in colour as well as in form.
  const hue = (cls * 137.5 + rng.uniform(-15, 15) + 360) % 360;
  const fill = `hsl(${hue.toFixed(0)},${rng.uniform(55, 95).toFixed(0)}%,${rng.uniform(35, 65).toFixed(0)}%)`;
  const shape = shapeSvg(SHAPES[cls]!, rng.uniform(r, width - r), rng.uniform(r, height - r), r, rng.uniform(0, 360), fill);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="${rng.uniform(0, 1).toFixed(2)}" y2="1"><stop offset="0" stop-color="${colour(rng)}"/><stop offset="1" stop-color="${colour(rng)}"/></linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${blobs.join('')}${shape}</svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 10 } } })
    .raw()
    .toBuffer();
  const flat = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
  return sharp(flat, { raw: { width, height, channels: 3 } })
    .composite([{ input: grain, raw: { width, height, channels: 3 }, blend: 'overlay' }])
    .jpeg({ quality: 88 })
    .toBuffer();
}

/**
 * Writes `perClass` photos of each of `classes` shapes (from SHAPES[first], default 0) under
 * `dir/<shape>/` (an ImageFolder); returns `dir`.
 *
 * @example
 * const dir = await writeShapeFolder(join(root, 'photos'), { classes: 3, perClass: 12, seed: 1 });
 */
export async function writeShapeFolder(dir: string, o: { classes: number; perClass: number; seed?: number; width?: number; height?: number; first?: number }): Promise<string> {
  for (let c = o.first ?? 0; c < (o.first ?? 0) + o.classes; c += 1) {
    const sub = join(dir, SHAPES[c]!);
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < o.perClass; i += 1) writeFileSync(join(sub, `${String(i).padStart(4, '0')}.jpg`), await shapePhoto(c, (o.seed ?? 0) * 100_003 + i, o.width, o.height));
  }
  return dir;
}
