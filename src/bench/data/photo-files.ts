/**
 * The data bench's photo folders: phone-size JPEGs (4032x3024, every fourth one portrait)
 * generated deterministically by the bench, never committed, and kept under the cache root
 * (`$TLCV_CACHE/bench/photos`) so that later runs reuse them. A few dozen distinct photos are
 * encoded (a 12-megapixel encode takes about a second); folders of 1,000 or 4,000 photos are
 * made of hard links to them. Decoding costs the same per file either way, and both sides of
 * the bench read the same folders.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { cacheRoot } from '../../data/index.js';
import { Rng } from '../../sampling/rng.js';

export const PHOTO_WIDTH = 4032;
export const PHOTO_HEIGHT = 3024;
const CLASSES = 10;

/** Where the bench keeps its photo folders. */
export function photoCacheDir(): string {
  return join(cacheRoot(), 'bench', 'photos');
}

/** Smooth random content with camera-like grain: JPEGs of phone size (about 3 MB each). */
async function encodePhoto(seed: number, portrait: boolean, grain: Buffer): Promise<Buffer> {
  const rng = new Rng(seed, 0xf070);
  const [w, h] = portrait ? [PHOTO_HEIGHT, PHOTO_WIDTH] : [PHOTO_WIDTH, PHOTO_HEIGHT];
  const small = Buffer.alloc(48 * 36 * 3);
  for (let i = 0; i < small.length; i += 1) small[i] = rng.int(256);
  const base = sharp(small, { raw: { width: portrait ? 36 : 48, height: portrait ? 48 : 36, channels: 3 } }).resize(w, h, { kernel: 'cubic' });
  const flat = await base.raw().toBuffer();
  return sharp(flat, { raw: { width: w, height: h, channels: 3 } })
    .composite([{ input: grain, raw: { width: w, height: h, channels: 3 }, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The distinct photos (made once): `distinct` JPEGs under the cache, returned as paths. */
async function distinctPhotos(distinct: number, log: (m: string) => void): Promise<string[]> {
  const dir = join(photoCacheDir(), 'distinct');
  mkdirSync(dir, { recursive: true });
  const paths = Array.from({ length: distinct }, (_, i) => join(dir, `${String(i).padStart(4, '0')}.jpg`));
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length === 0) return paths;
  log(`  generating ${missing.length} phone-size JPEGs under ${dir} (once)`);
  const grainOf = async (portrait: boolean): Promise<Buffer> =>
    sharp({ create: { width: portrait ? PHOTO_HEIGHT : PHOTO_WIDTH, height: portrait ? PHOTO_WIDTH : PHOTO_HEIGHT, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 12 } } }).raw().toBuffer();
  const grain = { landscape: await grainOf(false), portrait: await grainOf(true) };
  for (const [i, p] of paths.entries()) {
    if (existsSync(p)) continue;
    const portrait = i % 4 === 3;
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, await encodePhoto(i, portrait, portrait ? grain.portrait : grain.landscape));
    renameSync(tmp, p);
  }
  return paths;
}

/**
 * A class folder of n photos (CLASSES classes, round robin) linked to the distinct ones;
 * returns its path. Made once per n and distinct count, then reused.
 *
 * @example
 * const dir = await photoFolder(1000, 64, console.error); // folder:DIR for tlcv, ImageFolder(DIR) for torchvision
 */
export async function photoFolder(n: number, distinct: number, log: (m: string) => void = () => {}): Promise<string> {
  const sources = await distinctPhotos(Math.min(n, distinct), log);
  const dir = join(photoCacheDir(), `folder-${n}-of-${sources.length}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < n; i += 1) {
    const cls = join(dir, `class${i % CLASSES}`);
    mkdirSync(cls, { recursive: true });
    const target = join(cls, `${String(i).padStart(5, '0')}.jpg`);
    const src = sources[i % sources.length]!;
    try {
      linkSync(src, target);
    } catch {
      copyFileSync(src, target);
    }
  }
  writeFileSync(join(dir, '.complete'), '');
  return dir;
}
