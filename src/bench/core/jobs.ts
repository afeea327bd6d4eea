/**
 * What the harness and its workers exchange, shared by every section: image sets on disk, the
 * timing loop's settings, the workers' greeting. A section's own jobs live in its folder (the
 * PyTorch peer, peers/bench.py, takes the same fields; where the sides differ both fields travel
 * and each side reads its own).
 */

export type Shape3 = [number, number, number];

/** Files of one image set: uint8 NCHW images and int32 labels, as both sides read them. */
export interface ImageSetFiles {
  images: string;
  labels: string;
  n: number;
  inputSize: Shape3;
}

/** Timing loop: `warmup` untimed steps once per model, then at least `iters` steps and `minSeconds`. */
export interface Timing {
  warmup: number;
  iters: number;
  minSeconds: number;
  maxIters: number;
}

/** Every worker's answer to `hello`: its threads, and what it runs. */
export interface HelloResult {
  threads: number;
  ompWaitPolicy?: string | null;
  torch?: string;
  torchvision?: string;
  tfjs?: string;
  backend?: string;
  plan?: string;
}

/** Runs step until `iters` runs and `minSeconds` have both passed (at most maxIters). */
export function timeSteps(step: () => void, t: Timing): { runs: number; seconds: number } {
  const t0 = performance.now();
  let runs = 0;
  while (runs < t.iters || ((performance.now() - t0) / 1000 < t.minSeconds && runs < t.maxIters)) {
    step();
    runs += 1;
  }
  return { runs, seconds: (performance.now() - t0) / 1000 };
}
