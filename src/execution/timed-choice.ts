/**
 * How tlcv times candidates against each other (numeric plans, inference engines): each step's
 * best of several runs after a warm-up, the candidates interleaved over rounds, and a margin
 * before leaving the default. The clock can be swapped, so that tests check the choice without
 * timing anything.
 */

/** Milliseconds since some fixed point (performance.now, or a test's fake). */
export type Clock = () => number;

export const performanceClock: Clock = () => performance.now();

// Two warm-up steps (oneDNN builds and caches its primitives and weight reorders on the first
// calls; onnxruntime allocates its arena), then the best of at least three, and of as many as
// fit in a third of a second for small models: the minimum is what a burst of load elsewhere
// disturbs least.
export const WARMUP = 2;
const TIMED = 3;
const TIMED_MS = 350;
const MAX_TIMED = 30;
// Candidates are timed in turn, three times over, each round starting with another candidate,
// and each keeps its best round: the first steps of a process run slower (allocator growth,
// library set-up), and a burst of load elsewhere hits one round, not every round of one candidate.
const ROUNDS = 3;
// The default stays unless another is clearly faster: a near tie is noise, and switching on
// noise would make the cached choice differ from machine to machine.
export const SWITCH_MARGIN = 1.05;
// Batches beyond this many pixels (64 images at 32x32) add time to a trial, not information.
const TRIAL_PIXELS = 64 * 32 * 32;

/**
 * How many images of a batch a timing runs: at least 8, and as many as make 64 images of 32x32
 * pixels (8 at 224 px, 83 at 28 px); a smaller batch runs whole.
 *
 * @example
 * trialBatchSize(224, 224); // 8
 */
export function trialBatchSize(height: number, width: number): number {
  return Math.max(8, Math.floor(TRIAL_PIXELS / Math.max(1, height * width)));
}

/**
 * Seconds of the fastest of several runs of `step`, after `warmup` untimed runs.
 *
 * @example
 * const s = bestSeconds(() => model.forward(x).dispose(), 2);
 */
export function bestSeconds(step: () => void, warmup: number, clock: Clock = performanceClock): number {
  for (let i = 0; i < warmup; i += 1) step();
  let best = Infinity;
  let spent = 0;
  for (let i = 0; i < TIMED || (spent < TIMED_MS && i < MAX_TIMED); i += 1) {
    const t0 = clock();
    step();
    const ms = clock() - t0;
    best = Math.min(best, ms);
    spent += ms;
  }
  return best / 1000;
}

/**
 * Each candidate's best seconds over interleaved rounds: `time(c, warmup)` times one round of
 * candidate c (with `warmup` untimed runs first: WARMUP in the first round, 1 after).
 *
 * @example
 * const seconds = timeInterleaved(plans, (plan, warmup) => bestSeconds(() => step(plan), warmup));
 */
export function timeInterleaved<C>(candidates: readonly C[], time: (c: C, warmup: number) => number): Map<C, number> {
  const seconds = new Map<C, number>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let k = 0; k < candidates.length; k += 1) {
      const c = candidates[(round + k) % candidates.length]!;
      seconds.set(c, Math.min(seconds.get(c) ?? Infinity, time(c, round === 0 ? WARMUP : 1)));
    }
  }
  return seconds;
}

/**
 * The fastest candidate, where it beats `preferred` (the default) by more than the margin.
 *
 * @example
 * const best = fastestBeyondMargin(plans, seconds, staticPlan);
 */
export function fastestBeyondMargin<C>(candidates: readonly C[], seconds: Map<C, number>, preferred: C): C {
  let best = preferred;
  for (const c of candidates) if (seconds.get(c)! * SWITCH_MARGIN < seconds.get(best)!) best = c;
  return best;
}
