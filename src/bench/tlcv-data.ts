/**
 * The tlcv side of the data bench, run inside a bench worker: the streaming photo loader's
 * decode throughput (decode, RandomResizedCrop, flip, normalise into a float batch) and its
 * memory over whole epochs.
 */
import { DataLoader, isFileDataset, loadDataset, resolveDataConfig, type ImageFileDataset, type PreprocessConfig } from '../data/index.js';
import type { DataDecodeJob, DataDecodeResult, DataMemoryJob, DataMemoryResult } from './jobs.js';
import { PHOTO_HEIGHT, PHOTO_WIDTH } from './photo-files.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

function photoConfig(size: number): PreprocessConfig {
  return resolveDataConfig({ model: { inputSize: [3, size, size], mean: IMAGENET_MEAN, std: IMAGENET_STD }, data: { channels: 3, height: PHOTO_HEIGHT, width: PHOTO_WIDTH } });
}

async function openFolder(dir: string, size: number, cacheImages: 'auto' | 'on' | 'off'): Promise<ImageFileDataset> {
  const ds = await loadDataset(`folder:${dir}`, { stream: true, preprocess: photoConfig(size), train: true, cacheImages });
  if (!isFileDataset(ds)) throw new Error(`${dir} did not load as a streaming photo folder`);
  return ds;
}

export async function dataDecode(j: DataDecodeJob): Promise<DataDecodeResult> {
  const ds = await openFolder(j.dir, j.size, 'off');
  const loader = new DataLoader(ds, { batchSize: j.batch, shuffle: true, seed: j.seed, mean: j.mean, std: j.std });
  let t0 = 0;
  let images = 0;
  for await (const b of loader) {
    if (t0 === 0) t0 = performance.now();
    else images += b.indices.length;
    b.x.dispose();
    b.y.dispose();
    if (images >= j.images) break;
  }
  return { images, seconds: (performance.now() - t0) / 1000 };
}

export async function dataMemory(j: DataMemoryJob): Promise<DataMemoryResult> {
  const t0 = performance.now();
  const ds = await openFolder(j.dir, j.size, j.cacheImages);
  const loader = new DataLoader(ds, { batchSize: j.batch, shuffle: true, seed: 0, mean: IMAGENET_MEAN, std: IMAGENET_STD });
  const rssPerEpoch: number[] = [];
  for (let epoch = 0; epoch < j.epochs; epoch += 1) {
    loader.setEpoch(epoch);
    let top = 0;
    for await (const b of loader) {
      b.x.dispose();
      b.y.dispose();
      top = Math.max(top, process.memoryUsage.rss());
    }
    rssPerEpoch.push(top);
  }
  return {
    peakRss: process.resourceUsage().maxRSS * 1024,
    rssPerEpoch,
    images: ds.n,
    seconds: (performance.now() - t0) / 1000,
    cacheBytes: ds.cache?.bytes ?? 0,
    cacheLimit: ds.cache === null ? null : ds.cache.limitBytes,
  };
}
