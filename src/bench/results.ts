/**
 * The shape of bench.json, and the arithmetic from measured samples to the figures and
 * ratios in it. Every ratio is computed here from medians of measurements, never typed in.
 */
import type { RooflineRun, Shape3 } from './jobs.js';
import type { ServeFigures } from './serve-jobs.js';
import type { AdaptFigures, FewshotFigures } from './scenario-jobs.js';

/** A timed figure: the median of its samples (one sample per interleaved repetition), and the best. */
export interface Figure {
  median: number;
  /** The highest sample: the statistic for a peak (GEMM), which load elsewhere can only lower. */
  best: number;
  samples: number[];
}

export interface ThroughputRow {
  model: string;
  inputSize: Shape3;
  batch: number;
  mode: 'train' | 'infer';
  /** images/s per setting name (tlcv: auto, fp32; PyTorch: fp32, fp32+cl, bf16, bf16+cl). */
  tlcv: Record<string, Figure>;
  peer: Record<string, Figure>;
  /** The plan tlcv's auto setting chose. */
  plan: string;
  /** Forward FLOPs per image (conv and linear layers), from the peer's count. */
  forwardFlopsPerImage: number | null;
  ratios: {
    /** tlcv auto / PyTorch default (fp32). */
    autoVsPeerDefault: number;
    /** tlcv auto / the fastest PyTorch setting. */
    autoVsPeerBest: number;
    peerBestSetting: string;
    /** tlcv fp32 / PyTorch fp32: the same kernels, so the cost of tlcv's JS side. */
    fp32VsPeerFp32: number;
  };
  /** Settings that failed, by "tlcv auto" / "PyTorch bf16+cl", with the library's message. */
  errors: Record<string, string>;
}

export interface TransferSide {
  seconds: number;
  testAcc: number;
  history: number[];
  cacheSeconds?: number;
  plan?: string;
}

export interface TransferFigures {
  workload: string;
  trainImages: number;
  testImages: number;
  epochs: number;
  tlcv: TransferSide;
  peer: TransferSide;
  /** PyTorch seconds / tlcv seconds: how many times less wall time tlcv takes. */
  timeRatio: number;
  /** (tlcv - PyTorch) test accuracy, in points. */
  accuracyDeltaPoints: number;
}

export interface MemorySide {
  peakRss: number;
  /** Each epoch's highest RSS, sampled after every step. */
  rssPerEpoch: number[];
  /** RSS growth from epoch 2 to the last epoch, as a fraction. */
  growth: number;
}

export interface GemmFigures {
  n: number;
  /** GFLOP/s per dtype and side; the peak is `best`. */
  tlcv: Record<string, Figure>;
  peer: Record<string, Figure>;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null where the issue asks only for the figure. */
  met: boolean | null;
}

/** The optimizer step alone: milliseconds per AdamW step over every parameter of the model. */
export interface OptimizerFigures {
  model: string;
  params: number;
  /** tlcv: fused, per-op; PyTorch: foreach, single (1.13's default on CPU). */
  tlcv: Record<string, Figure>;
  peer: Record<string, Figure>;
  /** PyTorch foreach ms / tlcv fused ms. */
  speedupVsForeach: number;
}

export interface RooflineFigures {
  model: string;
  inputSize: Shape3;
  batch: number;
  forwardFlopsPerImage: number | null;
  /** The GEMM peaks (GFLOP/s) the runs are set against. */
  peaks: { float32: number; bfloat16: number };
  runs: (RooflineRun & { gflops: number })[];
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

/** `tlcv bench --only distributed` (src/bench/distributed.ts). */
export interface DistributedFigures {
  threadsPerWorker: number;
  allreduce: { model: string; bytes: number; tlcvFlatMs: Figure; torchFlatMs: Figure; tlcvBucketsMs: Figure; torchBucketsMs: Figure };
  train: TrainFigures[];
}

export interface TrainFigures {
  model: string;
  inputSize: Shape3;
  batch: number;
  buckets: number;
  /** images/s over all processes; tlcv through the Learner (DataParallel with 2), tlcv2Script through a bare ddp.backward loop. */
  tlcv1: Figure;
  tlcv2: Figure;
  tlcv2Script: Figure;
  torch1: Figure;
  torch2: Figure;
  /** CPU milliseconds (all of one process's threads) per image that process trained, rank 0. */
  cpuMsPerImage: { tlcv1: Figure; tlcv2: Figure; torch1: Figure; torch2: Figure };
  /** Minor page faults per step, rank 0. */
  faultsPerStep: { tlcv1: Figure; tlcv2: Figure; torch1: Figure; torch2: Figure };
}

export interface BenchReport {
  command: string;
  startedAt: string;
  seconds: number;
  machine: {
    cpu: string;
    cores: number;
    threads: number;
    loadAverageStart: number[];
    loadAverageEnd: number[];
    node: string;
    torch: string | null;
    ompWaitPolicy: string | null;
    tlcvAutoPlan: string | null;
  };
  config: unknown;
  throughput: ThroughputRow[];
  gemm: GemmFigures | null;
  transfer: TransferFigures[];
  precision: { fp32: number; auto: number; autoPlan: string; deltaPoints: number; trainImages: number; testImages: number; epochs: number } | null;
  memory: { tlcv: MemorySide; peer: MemorySide; peakRatio: number; model: string; epochs: number } | null;
  tfjs: { batch: number; imagesPerSec: number; version: string; tlcvAutoImagesPerSec: number | null } | null;
  optimizer?: OptimizerFigures | null;
  roofline?: RooflineFigures | null;
  distributed?: DistributedFigures | null;
  data?: DataFigures | null;
  serve?: ServeFigures | null;
  /** Issue 14: training-free heads against feature extraction, and adaptation scenarios. */
  fewshot?: FewshotFigures | null;
  adapt?: AdaptFigures | null;
  targets: TargetCheck[];
  /** Sections that failed, with why; the rest of the report stands. */
  errors: Record<string, string>;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function figure(samples: number[]): Figure {
  return { median: median(samples), best: samples.length > 0 ? Math.max(...samples) : NaN, samples };
}

export function throughputRatios(tlcv: Record<string, Figure>, peer: Record<string, Figure>): ThroughputRow['ratios'] {
  const auto = tlcv.auto?.median ?? NaN;
  let best = '';
  let bestValue = -Infinity;
  for (const [name, f] of Object.entries(peer)) {
    if (Number.isFinite(f.median) && f.median > bestValue) {
      bestValue = f.median;
      best = name;
    }
  }
  return {
    autoVsPeerDefault: auto / (peer.fp32?.median ?? NaN),
    autoVsPeerBest: bestValue > 0 ? auto / bestValue : NaN,
    peerBestSetting: best,
    fp32VsPeerFp32: (tlcv.fp32?.median ?? NaN) / (peer.fp32?.median ?? NaN),
  };
}

/** RSS growth from epoch 2 (index 1) to the last epoch. */
export function rssGrowth(rss: number[]): number {
  if (rss.length < 2) return NaN;
  return rss[rss.length - 1]! / rss[1]! - 1;
}
