/**
 * Streaming image folders: an index of (path, label) read from file headers only, and the
 * preprocessing that each batch applies as it decodes. Digit-sized folders still load into
 * memory (their whole set is smaller than one batch of photos).
 */
import { stat } from 'node:fs/promises';
import { TlcvError } from '../errors.js';
import { checkDataset, isFileDataset, type Dataset, type FileIndex, type ImageDataset, type ImageFileDataset, type SplitName } from './dataset.js';
import { conformDataset } from './image-ops.js';
import { defaultDecodeConcurrency, loadImageFolder, warnLostClasses } from './image-folder.js';
import { listImageFolder, mapPool, mostCommonSize, reportBadFiles } from './folder-index.js';
import { cutRegion, decodeStored, decodeWhole, probeImage } from './image-decode.js';
import { inputRegion, planImageCache, resolveDataConfig, storedSize, SMALL_IMAGE_MAX, type CacheImages, type PreprocessConfig } from './preprocess.js';
import { StoredImageCache } from './stored-cache.js';
import { readFileBatch } from './file-batches.js';

export interface StreamOptions {
  split?: SplitName;
  onBadImage?: 'error' | 'skip';
  log?: (msg: string) => void;
  /** Images decoded (or probed) at once. */
  concurrency?: number;
  /** The preprocessing to apply; default: resolveDataConfig for a 224 px ImageNet model, or the data's own size when small. */
  preprocess?: PreprocessConfig;
  /** Random crops and flips (default false: the eval crop). */
  train?: boolean;
  /** Keep decoded stored forms in memory: 'auto' (default) up to cacheBudgetBytes, 'on' all, 'off' none. */
  cacheImages?: CacheImages;
  cacheBudgetBytes?: number;
}

/** ImageNet's statistics, the default when no model is named yet. */
const IMAGENET = { inputSize: [3, 224, 224] as [number, number, number], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The data's channels and most common size, what resolveDataConfig takes as `data`. */
export interface DataSummary {
  channels: number;
  height: number;
  width: number;
  /** Digit-sized: at most SMALL_IMAGE_MAX a side. */
  small: boolean;
}

function summarise(files: FileIndex, ids: ArrayLike<number>): DataSummary {
  const counts = new Map<string, number>();
  let gray = true;
  for (let j = 0; j < ids.length; j += 1) {
    const i = ids[j]!;
    const k = `${files.heights[i]}x${files.widths[i]}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    gray &&= files.gray[i] === 1;
  }
  let best: [number, number] = [1, 1];
  let top = -1;
  for (const [k, c] of counts) if (c > top) [best, top] = [k.split('x').map(Number) as [number, number], c];
  return { channels: gray ? 1 : 3, height: best[0], width: best[1], small: Math.max(best[0], best[1]) <= SMALL_IMAGE_MAX };
}

/**
 * What the data is, for choosing an input size: a streaming dataset's original images (read
 * from their headers), or an in-memory dataset's stored size.
 *
 * @example
 * const cfg = resolveDataConfig({ model: getModelConfig('resnet18'), data: describeData(ds) });
 */
export function describeData(ds: Dataset): DataSummary {
  if (isFileDataset(ds)) return summarise(ds.files, ds.fileIds);
  return { channels: ds.channels, height: ds.height, width: ds.width, small: Math.max(ds.height, ds.width) <= SMALL_IMAGE_MAX };
}

/** The key of a stored form: datasets whose settings give the same stored bytes share a cache. */
function storedKey(cfg: PreprocessConfig): string {
  return JSON.stringify([cfg.inputSize, cfg.resize, cfg.cropPct, cfg.interpolation, cfg.background]);
}

/**
 * A streaming dataset with the given preprocessing, train/eval mode and cache, sharing its
 * index (and a cache with the same stored form) with ds.
 *
 * @example
 * const val = configureFiles(trainSet, trainSet.preprocess, { train: false });
 */
export function configureFiles(ds: ImageFileDataset, cfg: PreprocessConfig, o: { train?: boolean; cacheImages?: CacheImages; cacheBudgetBytes?: number } = {}): ImageFileDataset {
  const key = storedKey(cfg);
  let cache = ds.cache !== null && ds.cache.key === key && o.cacheImages === undefined ? ds.cache : (ds.files.caches.get(key) ?? null);
  if (o.cacheImages !== undefined) {
    const s = summarise(ds.files, ds.fileIds);
    const [sh, sw] = storedSize(s.height, s.width, cfg);
    const plan = planImageCache(o.cacheImages, { images: ds.n, bytesPerImage: sh * sw * cfg.inputSize[0], ...(o.cacheBudgetBytes !== undefined ? { budgetBytes: o.cacheBudgetBytes } : {}) });
    cache = plan.limitBytes === 0 ? null : cache !== null && cache.limitBytes === plan.limitBytes ? cache : new StoredImageCache(key, plan.limitBytes);
    if (cache !== null) ds.files.caches.set(key, cache);
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    if (o.cacheImages === 'auto' && !plan.fits) ds.log(`image cache: ${ds.n} decoded images need about ${mib(plan.estimateBytes)}, over the ${mib(plan.limitBytes)} budget: the first ${mib(plan.limitBytes)} are kept, the rest are decoded each epoch`);
  }
  const [c, h, w] = cfg.inputSize;
  return { ...ds, preprocess: cfg, channels: c, height: h, width: w, train: o.train ?? ds.train, cache };
}

/**
 * Indexes an image folder for streaming: lists it and reads every file's header (size,
 * orientation, channels; bombs and unreadable files are found here), decoding no pixels.
 * Digit-sized folders are decoded into memory instead, as `loadImageFolder` does.
 *
 * @example
 * const ds = await streamImageFolder('photos', { split: 'train', train: true, cacheImages: 'auto' });
 */
export async function streamImageFolder(dir: string, o: StreamOptions = {}): Promise<Dataset> {
  const log = o.log ?? ((): void => undefined);
  const listing = await listImageFolder(dir, o.split, log);
  const limit = o.concurrency ?? defaultDecodeConcurrency();
  const probes = await mapPool(listing.entries, limit, (e) => probeImage(e.path));
  const bad = new Map<string, string>();
  probes.forEach((p, i) => {
    if (!p.ok) bad.set(listing.entries[i]!.path, p.why);
  });
  const good = listing.entries.map((e, i) => ({ e, p: probes[i]! })).filter((x) => x.p.ok);
  const name = `folder:${dir}${o.split ? `:${o.split}` : ''}`;
  // A digit-sized folder is decoded whole now, so its bad files (a truncated one too, which
  // only decoding finds) are reported together, by loadImageFolder.
  if (good.length > 0 && Math.max(...mostCommonSize(probes)) <= SMALL_IMAGE_MAX) return loadSmallFolder(dir, name, o, probes.every((p) => !p.ok || p.gray) ? 1 : 3);
  reportBadFiles(dir, bad, o.onBadImage, log);
  if (good.length === 0) throw new TlcvError('DATA', `image folder ${dir}: no readable images (${bad.size} bad files)`);
  const files: FileIndex = {
    dir,
    paths: good.map((g) => g.e.path),
    heights: Int32Array.from(good, (g) => (g.p.ok ? g.p.height : 0)),
    widths: Int32Array.from(good, (g) => (g.p.ok ? g.p.width : 0)),
    gray: Uint8Array.from(good, (g) => (g.p.ok && g.p.gray ? 1 : 0)),
    bad: new Set(),
    caches: new Map(),
  };
  const labels = Int32Array.from(good, (g) => g.e.label);
  warnLostClasses(listing.classes, listing.entries, labels, log);
  const data = summarise(files, Int32Array.from(labels, (_l, i) => i));
  const cfg = o.preprocess ?? resolveDataConfig({ model: IMAGENET, data });
  const base: ImageFileDataset = {
    kind: 'files',
    name,
    labels,
    n: labels.length,
    channels: cfg.inputSize[0],
    height: cfg.inputSize[1],
    width: cfg.inputSize[2],
    classes: listing.classes,
    source: listing.root,
    files,
    fileIds: Int32Array.from(labels, (_l, i) => i),
    preprocess: cfg,
    train: false,
    cache: null,
    onBadImage: o.onBadImage ?? 'error',
    log,
    concurrency: limit,
  };
  return configureFiles(base, cfg, { train: o.train ?? false, cacheImages: o.cacheImages ?? 'auto', ...(o.cacheBudgetBytes !== undefined ? { cacheBudgetBytes: o.cacheBudgetBytes } : {}) });
}

/** Digit-sized folders in memory at their own size, then conformed to the preprocessing's size if one is given. */
async function loadSmallFolder(dir: string, name: string, o: StreamOptions, channels: number): Promise<ImageDataset> {
  const cfg = o.preprocess;
  const ds = await loadImageFolder(dir, {
    channels: cfg?.inputSize[0] ?? channels,
    ...(o.split ? { split: o.split } : {}),
    ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(cfg ? { background: cfg.background } : {}),
  });
  if (cfg === undefined) return ds;
  return checkDataset({ ...conformDataset(ds, { channels: cfg.inputSize[0], height: cfg.inputSize[1], width: cfg.inputSize[2] }), name });
}

/**
 * A dataset prepared with a preprocessing record: an in-memory dataset is resized whole to
 * its input size (and channels); a streaming one takes the record, train/eval mode and cache.
 *
 * @example
 * const train = applyPreprocess(ds, cfg, { train: true, cacheImages: 'auto' });
 */
export function applyPreprocess(ds: Dataset, cfg: PreprocessConfig, o: { train?: boolean; cacheImages?: CacheImages; cacheBudgetBytes?: number } = {}): Dataset {
  if (isFileDataset(ds)) return configureFiles(ds, cfg, o);
  const [channels, height, width] = cfg.inputSize;
  return conformDataset(ds, { channels, height, width });
}

/**
 * A dataset's images decoded into memory as evaluation takes them (the record's centre crops),
 * for the code that needs every pixel at hand (adaptation's pseudo-labels and domain batches).
 * Memory grows with the images: N x C x H x W bytes at the input size. A bad file under
 * onBadImage 'skip' is left out; data already in memory is returned as it is.
 *
 * @example
 * const target = await decodeDataset(await loadDataset('folder:unlabelled', { stream: true, preprocess }));
 */
export async function decodeDataset(ds: Dataset, batchSize = 64): Promise<ImageDataset> {
  if (!isFileDataset(ds)) return ds;
  const ev = configureFiles(ds, ds.preprocess, { train: false });
  const per = ev.channels * ev.height * ev.width;
  const parts: { bytes: Uint8Array; labels: Int32Array }[] = [];
  for (let at = 0; at < ev.n; at += batchSize) {
    const positions = Int32Array.from({ length: Math.min(batchSize, ev.n - at) }, (_, i) => at + i);
    parts.push(await readFileBatch(ev, positions, 0, 0));
  }
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(n * per);
  const labels = new Int32Array(n);
  let k = 0;
  for (const p of parts) {
    images.set(p.bytes, k * per);
    labels.set(p.labels, k);
    k += p.labels.length;
  }
  return checkDataset({ name: ds.name, images, labels, n, channels: ev.channels, height: ev.height, width: ev.width, classes: ds.classes, source: ds.source });
}

/** An image to preprocess: a file path, or its bytes (a request body) with a name for messages. */
export type ImageSource = string | { bytes: Uint8Array; name: string };

/**
 * Eval preprocessing of one image, exactly as evaluation during and after training applies
 * it: a digit-sized image under a whole-image record is decoded at its own size and resized
 * with libtorch, as its folder was; anything else is turned upright, decoded to its stored
 * form and centre-cropped. Returns uint8 CHW of cfg.inputSize; normalise with cfg.mean and
 * cfg.std. `tlcv predict`, evaluate, serve and export all come here, from a file or from bytes.
 * A missing file is a TlcvError 'FILE', a bad image a TlcvError 'DATA', each naming it.
 *
 * @example
 * const pixels = await preprocessImageFile('photos/cat.jpg', cfg); // 3*224*224 bytes
 * const same = await preprocessImageFile({ bytes: await readFile('photos/cat.jpg'), name: 'cat.jpg' }, cfg);
 */
export async function preprocessImageFile(source: ImageSource, cfg: PreprocessConfig): Promise<Uint8Array> {
  const input = typeof source === 'string' ? source : source.bytes;
  const name = typeof source === 'string' ? `image file ${source}` : source.name;
  if (typeof source === 'string' && !(await stat(source).then((s) => s.isFile(), () => false))) {
    throw new TlcvError('FILE', `image file ${source} does not exist or is not a file`);
  }
  const probe = await probeImage(input);
  if (!probe.ok) throw new TlcvError('DATA', `${name}: ${probe.why}`);
  const [c, h, w] = cfg.inputSize;
  if (Math.max(probe.height, probe.width) <= SMALL_IMAGE_MAX && cfg.resize === 'fill' && cfg.cropPct === 1) {
    const own = await decodeWhole(input, { channels: c, height: probe.height, width: probe.width, background: cfg.background });
    if (typeof own === 'string') throw new TlcvError('DATA', `${name}: ${own}`);
    const one: ImageDataset = { name, images: own, labels: Int32Array.of(0), n: 1, channels: c, height: probe.height, width: probe.width, classes: [''], source: name };
    return conformDataset(one, { channels: c, height: h, width: w }).images;
  }
  const stored = await decodeStored(input, [probe.height, probe.width], cfg);
  if (typeof stored === 'string') throw new TlcvError('DATA', `${name}: ${stored}`);
  const { box, flip } = inputRegion(stored.height, stored.width, cfg, null);
  return cutRegion(stored, box, flip, cfg);
}
