/**
 * What every bench section shares in its configuration. Each section adds its own key to
 * `BenchConfig` from its folder (`declare module '../core/config.js'` in its types.ts), so the
 * configuration's shape is the sum of the registered sections and this file never lists them.
 */

/** `tlcv bench` (full) or `tlcv bench --quick`: each section's settings for either. */
export type Preset = 'quick' | 'full';

export interface BenchConfig {
  /** CPU threads for every side (TLCV_THREADS / torch.set_num_threads). */
  threads: number;
  /** Interleaved repetitions of each timed figure; the table shows medians. */
  reps: number;
  /**
   * Throughput rows from each worker's CPU time instead of wall time: with one thread, a figure
   * that time-slicing on a shared machine does not inflate (spinning and cache contention still do).
   */
  cpuTime?: boolean;
  seed: number;
}
