/**
 * Where a step's time goes, op by op: libtorch's RecordFunction hooks time every dispatcher
 * op and autograd node (native/core/profiler.h), and what is left of the wall time was spent
 * outside libtorch's ops (JS, the N-API boundary, the allocator between ops).
 */
import { native } from '../native/binding.js';
import { TlcvError } from '../errors.js';

export interface OpProfileRow {
  /** The op (`aten::mkldnn_convolution`) or autograd node (`ConvolutionBackward0`). */
  name: string;
  calls: number;
  /** Milliseconds including the ops it called. */
  totalMs: number;
  /** Milliseconds of its own, excluding nested ops. */
  selfMs: number;
}

export interface OpProfile {
  /** By self time, largest first. */
  rows: OpProfileRow[];
  wallMs: number;
  /** Time inside outermost ops; wallMs - opsMs was spent outside libtorch's ops. */
  opsMs: number;
}

/**
 * Runs fn with every libtorch op timed. Profiling adds about a microsecond per op, so time
 * the step without it for throughput figures.
 *
 * @example
 * const p = profileOps(() => trainStep());
 * for (const r of p.rows.slice(0, 5)) console.log(r.name, r.selfMs.toFixed(1), 'ms');
 */
export function profileOps(fn: () => void): OpProfile {
  if (typeof fn !== 'function') throw new TlcvError('ARGUMENT', 'profileOps expects a function');
  native.profilerStart();
  const t0 = performance.now();
  let wallMs = 0;
  let raw: ReturnType<typeof native.profilerStop>;
  try {
    fn();
  } finally {
    wallMs = performance.now() - t0;
    raw = native.profilerStop();
  }
  const rows = raw.rows.map((r) => ({ name: r.name, calls: r.calls, totalMs: r.totalUs / 1000, selfMs: r.selfUs / 1000 }));
  return { rows, wallMs, opsMs: raw.rootUs / 1000 };
}
