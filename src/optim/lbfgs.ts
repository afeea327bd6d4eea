/**
 * L-BFGS with PyTorch 1.13's semantics (torch.optim.LBFGS): one `step(closure)` runs up to
 * `maxIter` iterations, the history and step length carry over to the next call, and the
 * optional strong-Wolfe line search brackets and zooms with cubic interpolation as minFunc
 * does. Same algorithm, same stopping rules, so a float64 problem ends on PyTorch's weights.
 *
 * Written here rather than bound from libtorch's C++ `torch::optim::LBFGS`: the native layer
 * holds no policy, and a full-batch fit of a few thousand weights spends its time in the
 * closure's ops, not in the vector arithmetic of the two-loop recursion.
 */
import { argumentError } from '../errors.js';
import { cat, enableGrad, invoke, keep, noGrad, tidy, zeros, type Tensor } from '../tensor/index.js';

export interface LBFGSOptions {
  /** Step length multiplier (PyTorch's lr); 1 suits a line search. */
  lr?: number;
  /** Iterations per `step` call. */
  maxIter?: number;
  /** Function evaluations per `step` call (default maxIter * 5/4). */
  maxEval?: number;
  /** Stops when every gradient element is at most this in magnitude. */
  toleranceGrad?: number;
  /** Stops when the loss or the step changes by less than this. */
  toleranceChange?: number;
  /** Correction pairs kept. */
  historySize?: number;
  lineSearch?: 'strong-wolfe' | null;
}

/**
 * Evaluates the loss at the current parameters, leaving its gradient in each parameter's
 * `.grad` (cleared first), and returns the loss. It runs with gradients enabled.
 */
export type LossClosure = () => number;

type Resolved = Required<Omit<LBFGSOptions, 'lineSearch'>> & { lineSearch: 'strong-wolfe' | null };

const dot = (a: Tensor, b: Tensor): number => tidy(() => (invoke('dot', [a, b]) as Tensor).item());
const absMax = (t: Tensor): number => tidy(() => t.abs().max().item());

function resolve(o: LBFGSOptions): Resolved {
  const maxIter = o.maxIter ?? 20;
  const r: Resolved = {
    lr: o.lr ?? 1,
    maxIter,
    maxEval: o.maxEval ?? Math.floor((maxIter * 5) / 4),
    toleranceGrad: o.toleranceGrad ?? 1e-7,
    toleranceChange: o.toleranceChange ?? 1e-9,
    historySize: o.historySize ?? 100,
    lineSearch: o.lineSearch ?? null,
  };
  for (const k of ['maxIter', 'maxEval', 'historySize'] as const) if (!Number.isInteger(r[k]) || r[k] < 1) throw argumentError(`LBFGS ${k}`, 'a positive integer', r[k]);
  for (const k of ['lr', 'toleranceGrad', 'toleranceChange'] as const) if (!(r[k] >= 0 && Number.isFinite(r[k]))) throw argumentError(`LBFGS ${k}`, 'a non-negative number', r[k]);
  if (r.lineSearch !== null && r.lineSearch !== 'strong-wolfe') throw argumentError('LBFGS lineSearch', "'strong-wolfe' or null", r.lineSearch);
  return r;
}

/**
 * Minimises a deterministic loss over `params` (full batch).
 *
 * @example
 * const opt = new LBFGS([w, b], { maxIter: 500, lineSearch: 'strong-wolfe' });
 * opt.step(() => {
 *   w.grad = null; b.grad = null;
 *   return tidy(() => { const loss = F.crossEntropy(F.linear(x, w, b), y); loss.backward(); return loss.item(); });
 * });
 * opt.dispose();
 */
export class LBFGS {
  readonly params: Tensor[];
  readonly options: Readonly<Resolved>;
  /** Function evaluations over every step so far. */
  funcEvals = 0;
  /** Iterations over every step so far. */
  iterations = 0;
  #d: Tensor | null = null;
  #t = 0;
  #dirs: Tensor[] = [];
  #steps: Tensor[] = [];
  #ro: number[] = [];
  #hDiag = 1;
  #prevGrad: Tensor | null = null;

  constructor(params: Tensor[], o: LBFGSOptions = {}) {
    if (params.length === 0) throw argumentError('LBFGS params', 'at least one tensor', params);
    this.params = [...params];
    this.options = resolve(o);
  }

  /** Runs up to `maxIter` iterations; returns the loss at the starting point, as PyTorch does. */
  step(closure: LossClosure): number {
    return noGrad(() => this.#step(closure));
  }

  #evaluate(closure: LossClosure): number {
    return tidy(() => enableGrad(closure));
  }

  /** The gradient as one flat vector (zeros for a parameter without one), in the current scope. */
  #gradVector(): Tensor {
    return tidy(() => cat(this.params.map((p) => p.grad?.reshape([-1]) ?? zeros([p.numel], { dtype: p.dtype, device: p.device }))));
  }

  /** The same, owned by the caller. */
  #flatGrad(): Tensor {
    return keep(this.#gradVector());
  }

  #addScaled(t: number, d: Tensor): void {
    tidy(() => {
      let offset = 0;
      for (const p of this.params) {
        p.add_(d.narrow(0, offset, p.numel).view(p.shape), t);
        offset += p.numel;
      }
    });
  }

  /** The loss and flat gradient at x + t d, leaving the parameters at x. */
  #directional(closure: LossClosure, x: Tensor[], t: number, d: Tensor): { f: number; g: Tensor } {
    this.#addScaled(t, d);
    const f = this.#evaluate(closure);
    const g = this.#gradVector();
    this.params.forEach((p, i) => p.copy_(x[i]!));
    return { f, g };
  }

  /** Two-loop recursion: the new direction from the gradient and the kept correction pairs. */
  #direction(g: Tensor): void {
    const o = this.options;
    if (this.iterations === 1) {
      this.#replaceDirection(keep(g.neg()));
      this.#clearHistory();
      this.#hDiag = 1;
      return;
    }
    const d = tidy(() => {
      const y = g.sub(this.#prevGrad!);
      const s = this.#d!.mul(this.#t);
      const ys = dot(y, s);
      if (ys > 1e-10) {
        if (this.#dirs.length === o.historySize) {
          this.#dirs.shift()!.dispose();
          this.#steps.shift()!.dispose();
          this.#ro.shift();
        }
        this.#dirs.push(keep(y));
        this.#steps.push(keep(s));
        this.#ro.push(1 / ys);
        this.#hDiag = ys / dot(y, y);
      }
      const n = this.#dirs.length;
      const al = new Array<number>(n).fill(0);
      const q = g.neg();
      for (let i = n - 1; i >= 0; i -= 1) {
        al[i] = dot(this.#steps[i]!, q) * this.#ro[i]!;
        q.add_(this.#dirs[i]!, -al[i]!);
      }
      const r = q.mul(this.#hDiag);
      for (let i = 0; i < n; i += 1) {
        const be = dot(this.#dirs[i]!, r) * this.#ro[i]!;
        r.add_(this.#steps[i]!, al[i]! - be);
      }
      return r;
    });
    this.#replaceDirection(keep(d));
  }

  #replaceDirection(d: Tensor): void {
    this.#d?.dispose();
    this.#d = d;
  }

  #clearHistory(): void {
    for (const t of [...this.#dirs, ...this.#steps]) t.dispose();
    this.#dirs = [];
    this.#steps = [];
    this.#ro = [];
  }

  #step(closure: LossClosure): number {
    const o = this.options;
    const origLoss = this.#evaluate(closure);
    let loss = origLoss;
    let evals = 1;
    this.funcEvals += 1;
    let g = this.#flatGrad();
    try {
      if (absMax(g) <= o.toleranceGrad) return origLoss;
      for (let n = 1; n <= o.maxIter; n += 1) {
        this.iterations += 1;
        this.#direction(g);
        const d = this.#d!;
        if (this.#prevGrad === null) this.#prevGrad = keep(g.clone());
        else this.#prevGrad.copy_(g);
        const prevLoss = loss;
        // The step length lives in this.#t: the next iteration's correction pair is d * t.
        let t = this.iterations === 1 ? Math.min(1, 1 / tidy(() => g.abs().sum().item())) * o.lr : o.lr;
        this.#t = t;
        const gtd = dot(g, d);
        if (gtd > -o.toleranceChange) break;
        let lsEvals = 0;
        let optimal = false;
        if (o.lineSearch === 'strong-wolfe') {
          const x = this.params.map((p) => keep(p.clone()));
          try {
            const r = strongWolfe((step) => this.#directional(closure, x, step, d), t, d, loss, g, gtd, o.toleranceChange);
            g.dispose();
            ({ f: loss, g, t, evals: lsEvals } = r);
            this.#t = t;
          } finally {
            for (const p of x) p.dispose();
          }
          this.#addScaled(t, d);
          optimal = absMax(g) <= o.toleranceGrad;
        } else {
          this.#addScaled(t, d);
          // As PyTorch: the last iteration of a step does not re-evaluate (a stochastic loss would waste it).
          if (n !== o.maxIter) {
            loss = this.#evaluate(closure);
            g.dispose();
            g = this.#flatGrad();
            optimal = absMax(g) <= o.toleranceGrad;
            lsEvals = 1;
          }
        }
        evals += lsEvals;
        this.funcEvals += lsEvals;
        if (n === o.maxIter || evals >= o.maxEval || optimal) break;
        if (tidy(() => d.mul(t).abs().max().item()) <= o.toleranceChange) break;
        if (Math.abs(loss - prevLoss) < o.toleranceChange) break;
      }
    } finally {
      g.dispose();
    }
    return origLoss;
  }

  /** Frees the history; the parameters stay the caller's. */
  dispose(): void {
    this.#clearHistory();
    this.#d?.dispose();
    this.#prevGrad?.dispose();
    this.#d = null;
    this.#prevGrad = null;
  }
}

/** Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds (minFunc's polyinterp). */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square < 0) return (lo + hi) / 2;
  const d2 = Math.sqrt(d2Square);
  const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return Math.min(Math.max(minPos, lo), hi);
}

interface Point {
  t: number;
  f: number;
  g: Tensor;
  gtd: number;
}

/**
 * Strong-Wolfe line search along d from the point (f, g): brackets a step, then zooms into the
 * bracket (minFunc's lswolfe, as PyTorch ports it). `evaluate` leaves its gradient in the
 * current scope; the one returned is the caller's to dispose.
 */
function strongWolfe(
  evaluate: (t: number) => { f: number; g: Tensor },
  t0: number,
  d: Tensor,
  f: number,
  g0: Tensor,
  gtd: number,
  toleranceChange: number,
  c1 = 1e-4,
  c2 = 0.9,
  maxLs = 25,
): { f: number; g: Tensor; t: number; evals: number } {
  const found = tidy(() => {
    const dNorm = absMax(d);
    const start: Point = { t: 0, f, g: g0.clone(), gtd };
    let t = t0;
    let cur = { t, ...evaluate(t), gtd: 0 };
    cur.gtd = dot(cur.g, d);
    let evals = 1;
    let prev = start;
    let bracket: Point[] | null = null;
    let done = false;
    let iter = 0;
    while (iter < maxLs) {
      if (cur.f > f + c1 * t * gtd || (iter > 1 && cur.f >= prev.f)) {
        bracket = [prev, cur];
        break;
      }
      if (Math.abs(cur.gtd) <= -c2 * gtd) {
        bracket = [cur];
        done = true;
        break;
      }
      if (cur.gtd >= 0) {
        bracket = [prev, cur];
        break;
      }
      const minStep = t + 0.01 * (t - prev.t);
      const maxStep = t * 10;
      t = cubicInterpolate(prev.t, prev.f, prev.gtd, t, cur.f, cur.gtd, [minStep, maxStep]);
      prev = cur;
      cur = { t, ...evaluate(t), gtd: 0 };
      cur.gtd = dot(cur.g, d);
      evals += 1;
      iter += 1;
    }
    if (iter === maxLs) bracket = [start, cur];
    const b = bracket!;
    if (done) return { f: b[0]!.f, g: b[0]!.g, t: b[0]!.t, evals };
    // Zoom: shrink the bracket until a point meets both conditions.
    let insufficient = false;
    let [low, high] = b[0]!.f <= b[1]!.f ? [0, 1] : [1, 0];
    while (!done && iter < maxLs) {
      if (Math.abs(b[1]!.t - b[0]!.t) * dNorm < toleranceChange) break;
      t = cubicInterpolate(b[0]!.t, b[0]!.f, b[0]!.gtd, b[1]!.t, b[1]!.f, b[1]!.gtd);
      const bMax = Math.max(b[0]!.t, b[1]!.t);
      const bMin = Math.min(b[0]!.t, b[1]!.t);
      const eps = 0.1 * (bMax - bMin);
      // Too close to an end of the bracket twice running (or past it): step 10% inside instead.
      if (Math.min(bMax - t, t - bMin) < eps) {
        if (insufficient || t >= bMax || t <= bMin) {
          t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
          insufficient = false;
        } else insufficient = true;
      } else insufficient = false;
      const p: Point = { t, ...evaluate(t), gtd: 0 };
      p.gtd = dot(p.g, d);
      evals += 1;
      iter += 1;
      if (p.f > f + c1 * t * gtd || p.f >= b[low]!.f) {
        b[high] = p;
        [low, high] = b[0]!.f <= b[1]!.f ? [0, 1] : [1, 0];
      } else {
        if (Math.abs(p.gtd) <= -c2 * gtd) done = true;
        else if (p.gtd * (b[high]!.t - b[low]!.t) >= 0) b[high] = b[low]!;
        b[low] = p;
      }
    }
    const best = b[low]!;
    return { f: best.f, g: best.g, t: best.t, evals };
  });
  keep(found.g);
  return found;
}
