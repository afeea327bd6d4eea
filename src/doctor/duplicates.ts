/**
 * Exact duplicates (the same bytes), near duplicates (the same picture resized, re-encoded or
 * lightly edited) and the copies that cross splits (leakage: a test image the model saw in
 * training). Near pairs come from an all-pairs search in blocks (a [B, D] x [D, N] product
 * through libtorch for cosine, popcounts for pHash), so time grows with N² but memory with N.
 */
import { fromTypedArray, invoke, tidy, type Tensor } from '../tensor/index.js';
import { COARSE_DIM, TINY_DIM, coarseVector, hamming, type Descriptors } from './descriptors.js';

export type NearMethod = 'tiny' | 'phash' | 'model';

/** Thresholds measured on planted copies (scripts/doctor-bench.mjs): see the report of issue 23. */
export const NEAR_DEFAULTS: Record<NearMethod, number> = { tiny: 0.97, phash: 4, model: 0.95 };

/** Two images and how alike they are (cosine, or differing pHash bits). */
export interface NearPair {
  a: number;
  b: number;
  score: number;
}

/** Groups of 2+ image positions with the same SHA-256. */
export function exactGroups(hashes: string[]): number[][] {
  const by = new Map<string, number[]>();
  hashes.forEach((h, i) => {
    const g = by.get(h);
    if (g === undefined) by.set(h, [i]);
    else g.push(i);
  });
  return [...by.values()].filter((g) => g.length > 1);
}

/**
 * Pairs (a < b; the first maxPairs found) whose unit vectors' cosine is at least `threshold`, rows flattened in `vectors`
 * ([N, dim]). Rows are expected at unit length (a zero row matches nothing).
 *
 * @example
 * const pairs = cosinePairs(tinyRows, n, 256, 0.95);
 */
export function cosinePairs(vectors: Float32Array, n: number, dim: number, threshold: number, maxPairs = Infinity, block = 256): NearPair[] {
  const pairs: NearPair[] = [];
  if (n < 2) return pairs;
  tidy(() => {
    const all = fromTypedArray(vectors, [n, dim]);
    const allT = all.transpose(0, 1).contiguous();
    // Tiles of the upper triangle, block x 4*block: small, equal-sized allocations that the
    // allocator reuses (blocks of whole rows, of shrinking sizes, left RSS hundreds of MB up).
    const width = 4 * block;
    for (let i0 = 0; i0 < n - 1 && pairs.length < maxPairs; i0 += block) {
      const rows = Math.min(block, n - i0);
      const left = all.narrow(0, i0, rows);
      for (let j0 = i0; j0 < n && pairs.length < maxPairs; j0 += width) {
        const cols = Math.min(width, n - j0);
        // Thresholded in libtorch: only the few pairs over it cross into JS.
        const [flat, values] = tidy(() => {
          const sims = left.matmul(allT.narrow(1, j0, cols)).view([-1]);
          const mask = sims.ge(threshold);
          const where = invoke('nonzero', [mask]) as Tensor;
          return [where.view([-1]).toTypedArray(), sims.maskedSelect(mask).toTypedArray()];
        }) as [BigInt64Array, Float32Array];
        for (let k = 0; k < flat.length && pairs.length < maxPairs; k += 1) {
          const pos = Number(flat[k]!);
          const a = i0 + Math.floor(pos / cols);
          const b = j0 + (pos % cols);
          if (b > a) pairs.push({ a, b, score: values[k]! });
        }
      }
    }
  });
  return pairs;
}

/** How far below the threshold the 16x16 pass looks: planted copies lose less than this between 32x32 and 16x16. */
const COARSE_MARGIN = 0.1;

/**
 * Near pairs by the 32x32 gray cosine, found in two passes: candidates by the 16x16 cosine
 * (a quarter of the products) at a lower threshold, then each candidate's 32x32 cosine.
 *
 * @example
 * const pairs = tinyPairs(images.map((im) => im.descriptors), 0.97);
 */
export function tinyPairs(descs: Descriptors[], threshold: number, maxPairs = Infinity): NearPair[] {
  const n = descs.length;
  const coarse = new Float32Array(n * COARSE_DIM);
  descs.forEach((d, i) => coarseVector(d, coarse, i * COARSE_DIM));
  // Per image: the gray mean and 1 / the centred norm, so that a 32x32 cosine is one integer dot product.
  const mean = new Float64Array(n);
  const inv = new Float64Array(n);
  descs.forEach((d, i) => {
    let s = 0;
    for (const v of d.gray) s += v;
    mean[i] = s / TINY_DIM;
    let q = 0;
    for (const v of d.gray) q += (v - mean[i]!) ** 2;
    inv[i] = q > 1e-6 ? 1 / Math.sqrt(q) : 0;
  });
  const out: NearPair[] = [];
  // Candidates are capped far above maxPairs: most fail the second pass on look-alike data.
  for (const c of cosinePairs(coarse, n, COARSE_DIM, threshold - COARSE_MARGIN, maxPairs * 20)) {
    const [ga, gb] = [descs[c.a]!.gray, descs[c.b]!.gray];
    let dot = 0;
    for (let k = 0; k < TINY_DIM; k += 1) dot += ga[k]! * gb[k]!;
    // Σ (a - ā)(b - b̄) = Σ ab - N ā b̄.
    const s = (dot - TINY_DIM * mean[c.a]! * mean[c.b]!) * inv[c.a]! * inv[c.b]!;
    if (s >= threshold && out.length < maxPairs) out.push({ a: c.a, b: c.b, score: s });
  }
  return out;
}

/** Pairs (a < b, at most maxPairs) whose pHashes differ in at most `maxBits` bits. */
export function hashPairs(hashes: [number, number][], maxBits: number, maxPairs = Infinity): NearPair[] {
  const pairs: NearPair[] = [];
  for (let a = 0; a < hashes.length && pairs.length < maxPairs; a += 1) {
    const ha = hashes[a]!;
    for (let b = a + 1; b < hashes.length; b += 1) {
      const d = hamming(ha, hashes[b]!);
      if (d <= maxBits && pairs.length < maxPairs) pairs.push({ a, b, score: d });
    }
  }
  return pairs;
}

/** Connected components of the pair graph, each with 2+ members, in order of their first member. */
export function groupPairs(n: number, pairs: { a: number; b: number }[]): number[][] {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const { a, b } of pairs) {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i += 1) {
    const r = find(i);
    const g = groups.get(r);
    if (g === undefined) groups.set(r, [i]);
    else g.push(i);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}
