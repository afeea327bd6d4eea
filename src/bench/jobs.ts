/**
 * The jobs the harness sends to its workers. The PyTorch peer (peers/bench.py) takes the
 * same fields; where the sides differ (tlcv picks its own plan, the peer is told its setting)
 * both fields travel and each side reads its own.
 */
import type { Precision } from '../execution/index.js';

export type Shape3 = [number, number, number];

/** Files of one image set: uint8 NCHW images and int32 labels, as both sides read them. */
export interface ImageSetFiles {
  images: string;
  labels: string;
  n: number;
  inputSize: Shape3;
}

/** A setting of either side; tlcv reads precision/channelsLast, the peer bf16/channelsLast. */
export interface SideSetting {
  /** Column name in the table (auto, fp32, fp32+cl, bf16, bf16+cl). */
  name: string;
  precision: Precision;
  bf16: boolean;
  channelsLast: boolean | 'auto';
}

/** Timing loop: `warmup` untimed steps once per model, then at least `iters` steps and `minSeconds`. */
export interface Timing {
  warmup: number;
  iters: number;
  minSeconds: number;
  maxIters: number;
}

export interface ThroughputJob extends Timing, SideSetting {
  kind: 'throughput';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  batch: number;
  mode: 'train' | 'infer';
  images: string;
  labels: string;
}

export interface ThroughputResult {
  images: number;
  seconds: number;
  /** CPU seconds of the worker process over the same steps (every thread). */
  cpuSeconds: number;
  /** The plan tlcv chose (tlcv side only). */
  plan?: string;
}

export interface GemmJob extends Timing {
  kind: 'gemm';
  n: number;
  dtype: 'float32' | 'bfloat16';
}

export interface GemmResult {
  flop: number;
  seconds: number;
}

/** The spec's loop: ResNet-18 with a frozen prefix, SGD + StepLR, test accuracy every epoch. */
export interface TransferJob {
  kind: 'transfer';
  /** Trainable residual layers before the head: 0 = feature extraction, 1 = fine-tune layer4. */
  trainableLayers: number;
  weights: string;
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
  /** int32 [epochs, n]: the training order of each epoch (tlcv's, which the peer follows). */
  order: string;
  inputSize: Shape3;
  mean: number[];
  std: number[];
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  stepSize: number;
  gamma: number;
  seed: number;
  /** tlcv's precision (default auto). */
  precision?: Precision;
}

export interface TransferResult {
  seconds: number;
  testAcc: number;
  history: number[];
  /** tlcv: seconds spent computing the frozen prefix's outputs once. */
  cacheSeconds?: number;
  plan?: string;
}

/** A short seed-cnn training at one precision (tlcv only): does bf16 keep fp32's accuracy? */
export interface PrecisionJob {
  kind: 'precision';
  precision: Precision;
  train: ImageSetFiles;
  test: ImageSetFiles;
  epochs: number;
  batch: number;
  seed: number;
}

export interface PrecisionResult {
  testAcc: number;
  seconds: number;
  plan: string;
}

/** A training run in a fresh worker, for peak RSS and RSS growth across epochs. */
export interface MemoryJob {
  kind: 'memory';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  images: string;
  labels: string;
  epochs: number;
  batch: number;
}

export interface MemoryResult {
  peakRss: number;
  rssPerEpoch: number[];
}

export interface FlopsResult {
  forwardFlopsPerImage: number;
}

export interface HelloResult {
  threads: number;
  ompWaitPolicy?: string | null;
  torch?: string;
  torchvision?: string;
  tfjs?: string;
  backend?: string;
  plan?: string;
}

/** TF.js (pure JS, cpu backend) training step of the seed CNN. */
export interface TfjsJob {
  kind: 'tfjs';
  inputSize: Shape3;
  batch: number;
  warmup: number;
  iters: number;
}

/** One optimizer step over a model's parameters with fixed random gradients, timed alone (issue 16). */
export interface OptimStepJob extends Timing {
  kind: 'optimStep';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  /** AdamW (lr 1e-3, weight decay 1e-4) as tlcv runs it ('fused', 'per-op') or PyTorch ('foreach', 'single'). */
  variant: string;
}

export interface OptimStepResult {
  steps: number;
  seconds: number;
  params: number;
}

/** tlcv's achieved throughput and where a step's time goes, for the roofline (tlcv only). */
export interface RooflineJob extends Timing {
  kind: 'roofline';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  batch: number;
  images: string;
  labels: string;
}

export interface RooflineRun {
  mode: 'train' | 'infer';
  /** 'default' (the timed plan; inference folded) or 'fp32'. */
  setting: string;
  plan: string;
  imagesPerSec: number;
  /** One profiled step: milliseconds per group of ops, and outside any op. */
  profile: { wallMs: number; opsMs: number; groups: Record<string, number>; top: { name: string; selfMs: number; calls: number }[] };
}

export interface RooflineResult {
  runs: RooflineRun[];
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
