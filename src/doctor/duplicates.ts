/**
 * Exact duplicates (the same bytes), near duplicates (the same picture resized, re-encoded or
 * lightly edited) and the copies that cross splits (leakage: a test image the model saw in
 * training). Near pairs come from an all-pairs search in blocks (a [B, D] x [D, N] product
 * through libtorch for cosine, popcounts for pHash), so time grows with N² but memory with N.
 */
import { fromTypedArray, tidy } from '../tensor/index.js';
import { hamming } from './descriptors.js';

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
    for (let i0 = 0; i0 < n - 1 && pairs.length < maxPairs; i0 += block) {
      const rows = Math.min(block, n - i0);
      const sims = tidy(() => all.narrow(0, i0, rows).matmul(allT).toFlatArray()) as Float32Array | number[];
      for (let r = 0; r < rows; r += 1) {
        const a = i0 + r;
        const base = r * n;
        for (let b = a + 1; b < n; b += 1) {
          const s = sims[base + b]!;
          if (s >= threshold && pairs.length < maxPairs) pairs.push({ a, b, score: s });
        }
      }
    }
  });
  return pairs;
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
