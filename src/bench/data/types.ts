/**
 * The data section's settings, jobs and figures: photo folders decoded and trained on, tlcv's
 * streaming loader against torchvision's ImageFolder + DataLoader, and streaming memory.
 */
import type { Figure } from '../core/report.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** Photo folders: decode throughput against torchvision and streaming memory (see dataBenchConfig). */
    data?: DataBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    data?: DataFigures | null;
  }
}

export interface DataBenchConfig {
  /** Distinct phone-size JPEGs generated (the folders link to them). */
  distinct: number;
  /** Photos in the folder the throughput runs on, and images timed per repetition. */
  throughputPhotos: number;
  throughputImages: number;
  batch: number;
  /** Input side (RandomResizedCrop size). */
  size: number;
  /** torchvision DataLoader workers. */
  peerWorkers: number;
  /** One fresh process per run: photos in the folder and the image cache. */
  memory: { photos: number; cacheImages: 'auto' | 'on' | 'off' }[];
  memoryEpochs: number;
  /** End-to-end resnet18 training on the throughput folder: images timed per repetition, and the batch. */
  train: { images: number; batch: number } | null;
}

/** The data section: decode throughput against torchvision, and RSS of streaming epochs. */
export interface DataFigures {
  photo: string;
  size: number;
  batch: number;
  /** images/s per side, medians of the repetitions; peer: torchvision ImageFolder + DataLoader. */
  decode: { tlcv: Figure; peer: Figure; peerWorkers: number; ratio: number } | null;
  /**
   * resnet18 training end to end, images/s: tlcv's Learner streaming the folder (no image cache),
   * the same on the photos decoded once into memory, torchvision's loop; the ratios of medians.
   */
  train: { batch: number; images: number; tlcvPlan: string; stream: Figure; memory: Figure; peer: Figure; peerWorkers: number; vsPeer: number; vsMemory: number } | null;
  memory: { photos: number; cacheImages: string; peakRss: number; rssPerEpoch: number[]; cacheBytes: number; cacheLimit: number | null; seconds: number }[];
}

/** Decode + RandomResizedCrop + flip of a photo folder, images/s (tlcv: streaming loader; peer: ImageFolder + DataLoader). */
export interface DataDecodeJob {
  kind: 'data-decode';
  dir: string;
  /** Images timed, after one untimed batch. */
  images: number;
  batch: number;
  size: number;
  seed: number;
  /** The peer's DataLoader workers. */
  workers: number;
  mean: number[];
  std: number[];
}

export interface DataDecodeResult {
  images: number;
  seconds: number;
}

/**
 * End-to-end training of resnet18 (random init, 10 classes) on a photo folder, images/s over
 * `images` images after one untimed step: tlcv's Learner streaming the folder ('stream', no
 * image cache, so every image is decoded as it trains) or on the same photos decoded once
 * into memory ('memory'); the peer's ImageFolder + DataLoader(num_workers) training loop.
 */
export interface DataTrainJob extends Omit<DataDecodeJob, 'kind'> {
  kind: 'data-train';
  mode: 'stream' | 'memory';
}

export interface DataTrainResult extends DataDecodeResult {
  /** The numeric plan tlcv trained with (the peer: PyTorch's default, fp32). */
  plan: string;
}

/** Epochs over a photo folder in a fresh tlcv process: peak RSS with a given image cache. */
export interface DataMemoryJob {
  kind: 'data-memory';
  dir: string;
  cacheImages: 'auto' | 'on' | 'off';
  epochs: number;
  batch: number;
  size: number;
}

export interface DataMemoryResult {
  /** The process's peak RSS (getrusage), bytes. */
  peakRss: number;
  /** Highest RSS sampled in each epoch. */
  rssPerEpoch: number[];
  images: number;
  seconds: number;
  /** Bytes of decoded images the cache held at the end, and its limit (null: no cache). */
  cacheBytes: number;
  cacheLimit: number | null;
}
