/**
 * The tlcv side of the data bench, run inside a bench worker: the streaming photo loader's
 * decode throughput (decode, RandomResizedCrop, flip, normalise into a float batch), its
 * memory over whole epochs, and resnet18 trained end to end by the Learner on the folder.
 */
import { DataLoader, Rng, configureFiles, isFileDataset, loadDataset, readFileBatch, resolveDataConfig, takeIndices, type Dataset, type ImageFileDataset, type PreprocessConfig } from '../../data/index.js';
import { manualSeed } from '../../tensor/index.js';
import { createModel } from '../../models/index.js';
import { describePlan } from '../../execution/index.js';
import { Learner, type Callback, type LearnerView } from '../../train/index.js';
import type { DataDecodeJob, DataDecodeResult, DataMemoryJob, DataMemoryResult, DataTrainJob, DataTrainResult } from './types.js';
import type { Job, JobHandlers } from '../core/protocol.js';
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

/** Times training from the end of the first step to the end of the epoch, as the peer times its loop. */
class StepClock implements Callback {
  start = 0;
  first = 0;
  seconds = 0;
  images = 0;
  afterBatch(learn: LearnerView): void {
    if (learn.iteration !== 1) return;
    this.start = performance.now();
    this.first = learn.epochProgress.images;
  }
  afterEpoch(learn: LearnerView): void {
    this.seconds = (performance.now() - this.start) / 1000;
    this.images = learn.epochProgress.images - this.first;
  }
}

/** The same photos decoded once (the centre crop) into memory: training then does no decoding. */
async function predecoded(ds: ImageFileDataset): Promise<Dataset> {
  const { bytes, labels, indices } = await readFileBatch(configureFiles(ds, ds.preprocess, { train: false }), Int32Array.from({ length: ds.n }, (_, i) => i), 0, 0);
  return { name: `${ds.name} (decoded)`, images: bytes, labels, n: indices.length, channels: ds.channels, height: ds.height, width: ds.width, classes: ds.classes, source: ds.source };
}

/**
 * resnet18 (random init) trained by the Learner on one epoch of `images` + one batch of the
 * folder's photos, drawn at random: streaming with no image cache (every image decoded as it
 * trains, RandomResizedCrop + flip), or on the same photos decoded into memory beforehand. The
 * plan is chosen before the clock starts.
 */
export async function dataTrain(j: DataTrainJob): Promise<DataTrainResult> {
  const all = await openFolder(j.dir, j.size, 'off');
  const pick = new Rng(j.seed, 0xe2e).permutation(all.n).subarray(0, Math.min(all.n, j.images + j.batch));
  const photos = takeIndices(all, pick);
  const train = j.mode === 'stream' ? photos : await predecoded(photos);
  manualSeed(j.seed);
  const model = createModel('resnet18', { numClasses: photos.classes.length });
  const clock = new StepClock();
  const learn = new Learner({ model, train, options: { epochs: 1, batchSize: j.batch, seed: j.seed, dropLast: true }, callbacks: [clock], quiet: true, cacheFrozen: false });
  try {
    const plan = await learn.choosePlan();
    await learn.fit();
    return { images: clock.images, seconds: clock.seconds, plan: describePlan(plan) };
  } finally {
    model.dispose();
  }
}

export const jobs: JobHandlers = {
  'data-decode': (j: Job) => dataDecode(j as unknown as DataDecodeJob),
  'data-memory': (j: Job) => dataMemory(j as unknown as DataMemoryJob),
  'data-train': (j: Job) => dataTrain(j as unknown as DataTrainJob),
};
