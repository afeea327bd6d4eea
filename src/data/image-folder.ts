/**
 * ImageFolder in memory: every image decoded with sharp (JPEG, PNG, WebP, GIF (first frame),
 * TIFF, AVIF), turned upright from its EXIF orientation, several at a time, and resized to
 * one size. For digit-sized folders; photo folders stream (see file-dataset.ts).
 *
 * Transparency is flattened over black (an option picks white): PIL's convert('RGB'), which
 * torchvision uses, just drops alpha and so shows whatever colour transparent pixels happen to
 * store; compositing over a fixed background makes that well defined, and black matches
 * what such exporters usually store and the dark backgrounds of digit-like data.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { TlcvError, argumentError } from '../errors.js';
import { checkDataset, type ImageDataset, type SplitName } from './dataset.js';
import { listImageFolder, mapPool, mostCommonSize, reportBadFiles, type FolderEntry } from './folder-index.js';
import { decodeWhole, probeImage } from './image-decode.js';

export interface ImageFolderOptions {
  split?: SplitName;
  /** 1 (grayscale) or 3 (RGB). Default: 1 when every image is grayscale, else 3. */
  channels?: number;
  /** [height, width]. Default: the most common image size (others are resized to it). */
  size?: [number, number];
  /** 'error' (default) lists every bad file in one error; 'skip' leaves them out with a warning. */
  onBadImage?: 'error' | 'skip';
  log?: (msg: string) => void;
  /** 'fill' stretches to the size (torchvision's Resize((h, w))); 'cover' crops the centre. */
  fit?: 'fill' | 'cover';
  /** What transparency is flattened over. */
  background?: 'black' | 'white';
  /** Images decoded at once. */
  concurrency?: number;
}

/** The most bytes one Uint8Array holds in Node 20 (2^32 - 1). */
const MAX_BUFFER = 2 ** 32 - 1;

/** Images decoded at once by default: enough to keep libvips's threads busy. */
export function defaultDecodeConcurrency(): number {
  return Math.max(4, availableParallelism() * 2);
}

/**
 * Decodes one image file to uint8 CHW of the given size and channels, stretched whole.
 *
 * @example
 * const pixels = await decodeImage('cat.jpg', { channels: 3, height: 224, width: 224 }); // 3*224*224 bytes
 */
export async function decodeImage(
  path: string,
  o: { channels: number; height: number; width: number; fit?: 'fill' | 'cover'; background?: 'black' | 'white' },
): Promise<Uint8Array> {
  if (o.channels !== 1 && o.channels !== 3) throw argumentError('channels', '1 or 3', o.channels);
  if (![o.height, o.width].every((v) => Number.isInteger(v) && v > 0)) throw argumentError('height and width', 'positive integers', [o.height, o.width]);
  const exists = await stat(path).then((st) => st.isFile(), () => false);
  if (!exists) throw new TlcvError('FILE', `image file ${path} does not exist or is not a file`);
  const r = await decodeWhole(path, o);
  if (typeof r === 'string') throw new TlcvError('DATA', `image file ${path}: ${r}`);
  return r;
}

/**
 * Decodes image bytes (a request body, say) as {@link decodeImage} decodes a file; `name` names
 * them in errors.
 *
 * @example
 * const pixels = await decodeImageBytes(await readFile('cat.jpg'), 'cat.jpg', { channels: 3, height: 224, width: 224 });
 */
export async function decodeImageBytes(
  bytes: Uint8Array,
  name: string,
  o: { channels: number; height: number; width: number; fit?: 'fill' | 'cover'; background?: 'black' | 'white' },
): Promise<Uint8Array> {
  if (o.channels !== 1 && o.channels !== 3) throw argumentError('channels', '1 or 3', o.channels);
  const r = await decodeWhole(bytes, o);
  if (typeof r === 'string') throw new TlcvError('DATA', `${name}: ${r}`);
  return r;
}

/**
 * Loads an image folder into memory as uint8 NCHW.
 *
 * @example
 * const ds = await loadImageFolder('digits', { split: 'train', size: [28, 28], channels: 1, onBadImage: 'skip', log: console.warn });
 */
export async function loadImageFolder(dir: string, o: ImageFolderOptions = {}): Promise<ImageDataset> {
  const log = o.log ?? ((): void => undefined);
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) throw argumentError('channels', '1 or 3', o.channels);
  if (o.size !== undefined && !o.size.every((s) => Number.isInteger(s) && s > 0)) throw argumentError('size', '[height, width] of positive integers', o.size);
  const { root, classes, entries } = await listImageFolder(dir, o.split, log);
  const limit = o.concurrency ?? defaultDecodeConcurrency();
  const bad = new Map<string, string>();
  let channels = o.channels;
  let size = o.size;
  if (channels === undefined || size === undefined) {
    const probes = await mapPool(entries, limit, (e) => probeImage(e.path));
    probes.forEach((p, i) => {
      if (!p.ok) bad.set(entries[i]!.path, p.why);
    });
    const good = probes.filter((p) => p.ok);
    if (good.length > 0) {
      channels ??= good.every((p) => p.gray) ? 1 : 3;
      size ??= mostCommonSize(probes);
      const [h, w] = size;
      const resized = good.filter((p) => p.height !== h || p.width !== w).length;
      if (o.size === undefined && resized > 0) log(`${resized} of ${good.length} images in ${dir} are not ${h}x${w} (the most common size) and are resized to it`);
    }
  }
  const [height, width] = size ?? [1, 1];
  const c = channels ?? 3;
  const todo = entries.filter((e) => !bad.has(e.path));
  const pixels = await mapPool(todo, limit, (e) => decodeWhole(e.path, { channels: c, height, width, fit: o.fit ?? 'fill', background: o.background ?? 'black' }));
  pixels.forEach((p, i) => {
    if (typeof p === 'string') bad.set(todo[i]!.path, p);
  });
  reportBadFiles(dir, bad, o.onBadImage, log);
  const keep = todo.map((e, i) => ({ e, p: pixels[i]! })).filter((x): x is { e: FolderEntry; p: Uint8Array } => typeof x.p !== 'string');
  if (keep.length === 0) throw new TlcvError('DATA', `image folder ${dir}: no readable images (${bad.size} bad files)`);
  const per = c * height * width;
  if (keep.length * per > MAX_BUFFER) {
    const gb = ((keep.length * per) / 1e9).toFixed(1);
    throw new TlcvError('DATA', `image folder ${dir}: ${keep.length} images of ${c}x${height}x${width} need ${gb} GB in one buffer, over the ${(MAX_BUFFER / 1e9).toFixed(1)} GB it can hold; load it streaming (loadDataset(spec, { stream: true }))`);
  }
  const images = new Uint8Array(keep.length * per);
  const labels = new Int32Array(keep.length);
  keep.forEach(({ e, p }, i) => {
    images.set(p, i * per);
    labels[i] = e.label;
  });
  warnLostClasses(classes, entries, labels, log);
  return checkDataset({ name: `folder:${dir}${o.split ? `:${o.split}` : ''}`, images, labels, n: keep.length, channels: c, height, width, classes, source: root });
}

/** Warns about classes whose every image was bad (they keep their label, with no images). */
export function warnLostClasses(classes: string[], entries: FolderEntry[], labels: ArrayLike<number>, log: (m: string) => void): void {
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < labels.length; i += 1) counts[labels[i]!] = (counts[labels[i]!] ?? 0) + 1;
  const lost = classes.filter((_cls, i) => counts[i] === 0 && entries.some((e) => e.label === i));
  if (lost.length > 0) log(`warning: every image of class ${lost.join(', ')} was bad and skipped`);
}
