/**
 * One batch of a streaming dataset, as bytes: each image's crop is drawn (seeded by the
 * loader's seed, the epoch and the image's position) in the coordinates of its stored form
 * before any pixel is decoded; the stored form comes from the cache or from one libvips call;
 * then only the chosen region is resized to the input size. A cached and a streaming epoch
 * therefore give the same bytes.
 */
import { relative } from 'node:path';
import { TlcvError } from '../errors.js';
import { Rng } from '../sampling/rng.js';
import type { ImageFileDataset } from './dataset.js';
import { cutRegion, decodeStored, type StoredImage } from './image-decode.js';
import { inputRegion, storedSize } from './preprocess.js';

export interface BatchBytes {
  /** uint8 NCHW of the images kept. */
  bytes: Uint8Array;
  labels: Int32Array;
  /** Dataset positions of the images kept (a bad file skipped under 'skip' is left out). */
  indices: Int32Array;
}

/** The stream of an image's crop and flip: one per (seed, epoch, position), independent of batch order. */
export function cropRng(seed: number, epoch: number, position: number): Rng {
  return new Rng(seed, 0xc409, epoch, position);
}

async function storedForm(ds: ImageFileDataset, id: number): Promise<StoredImage | string> {
  const hit = ds.cache?.get(id);
  if (hit !== undefined) return hit;
  const files = ds.files;
  const r = await decodeStored(files.paths[id]!, [files.heights[id]!, files.widths[id]!], ds.preprocess);
  if (typeof r !== 'string') ds.cache?.offer(id, r);
  return r;
}

/**
 * Decodes and crops the images at the given dataset positions. Every decode of the batch is
 * handed to libvips at once, so they run on its threads while the caller trains on the
 * previous batch. A bad file throws a TlcvError naming it (onBadImage 'error') or is left
 * out with a warning, and not tried again (onBadImage 'skip').
 *
 * @example
 * const { bytes, labels } = await readFileBatch(ds, Int32Array.of(0, 1, 2), 0, 0);
 */
export async function readFileBatch(ds: ImageFileDataset, positions: Int32Array, seed: number, epoch: number): Promise<BatchBytes> {
  const cfg = ds.preprocess;
  const files = ds.files;
  const per = ds.channels * ds.height * ds.width;
  const results = await Promise.all(
    Array.from(positions, async (pos): Promise<Uint8Array | string | null> => {
      const id = ds.fileIds[pos]!;
      if (files.bad.has(id)) return null;
      const [sh, sw] = storedSize(files.heights[id]!, files.widths[id]!, cfg);
      // Drawn before decoding, from the size the stored form will have.
      const { box, flip } = inputRegion(sh, sw, cfg, ds.train ? cropRng(seed, epoch, pos) : null);
      const stored = await storedForm(ds, id);
      if (typeof stored === 'string') return stored;
      return cutRegion(stored, box, flip, cfg);
    }),
  );
  const kept: number[] = [];
  results.forEach((r, j) => {
    if (typeof r !== 'string') {
      if (r !== null) kept.push(j);
      return;
    }
    const id = ds.fileIds[positions[j]!]!;
    const path = files.paths[id]!;
    if (ds.onBadImage === 'error') throw new TlcvError('DATA', `image file ${path}: ${r} (use --on-bad-image skip to leave it out)`);
    files.bad.add(id);
    ds.log(`warning: skipped bad image file ${relative(files.dir, path) || path} in ${files.dir}: ${r}`);
  });
  const bytes = new Uint8Array(kept.length * per);
  const labels = new Int32Array(kept.length);
  const indices = new Int32Array(kept.length);
  kept.forEach((j, k) => {
    bytes.set(results[j] as Uint8Array, k * per);
    labels[k] = ds.labels[positions[j]!]!;
    indices[k] = positions[j]!;
  });
  return { bytes, labels, indices };
}
