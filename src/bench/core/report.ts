/**
 * The shape of bench.json that every section shares, and the arithmetic from measured samples to
 * figures. Each section adds its own key to `BenchReport` from its folder (its types.ts), and
 * computes every ratio in it from medians of measurements, never typed in.
 */

/** A timed figure: the median of its samples (one sample per interleaved repetition), and the best. */
export interface Figure {
  median: number;
  /** The highest sample: the statistic for a peak (GEMM), which load elsewhere can only lower. */
  best: number;
  samples: number[];
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  /** null where the issue asks only for the figure. */
  met: boolean | null;
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

