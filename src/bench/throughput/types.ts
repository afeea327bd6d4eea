/**
 * The throughput section's settings, jobs and figures: training and inference steps at a fixed
 * batch, tlcv's default plan and fp32 against PyTorch's default and its three faster settings.
 */
import type { Precision } from '../../execution/index.js';
import type { Figure } from '../core/report.js';
import type { Shape3, Timing } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** One row per model and input; an empty list is off. */
    throughput: ModelRow[];
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    throughput: ThroughputRow[];
  }
}

export interface ModelRow {
  model: string;
  inputSize: Shape3;
  batch: number;
  numClasses: number;
  timing: Timing;
}

/** A setting of either side; tlcv reads precision/channelsLast, the peer bf16/channelsLast. */
export interface SideSetting {
  /** Column name in the table (auto, fp32, fp32+cl, bf16, bf16+cl). */
  name: string;
  precision: Precision;
  bf16: boolean;
  channelsLast: boolean | 'auto';
}

export const TLCV_SETTINGS: SideSetting[] = [
  { name: 'auto', precision: 'auto', bf16: false, channelsLast: 'auto' },
  { name: 'fp32', precision: 'fp32', bf16: false, channelsLast: false },
];

/** PyTorch's default and the three faster settings a PyTorch user could pick by hand. */
export const PEER_SETTINGS: SideSetting[] = [
  { name: 'fp32', precision: 'fp32', bf16: false, channelsLast: false },
  { name: 'fp32+cl', precision: 'fp32', bf16: false, channelsLast: true },
  { name: 'bf16', precision: 'bf16', bf16: true, channelsLast: false },
  { name: 'bf16+cl', precision: 'bf16', bf16: true, channelsLast: true },
];

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

/** The peer's count of a model's forward FLOPs (conv and linear layers). */
export interface FlopsResult {
  forwardFlopsPerImage: number;
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
