/**
 * A small seeded PRNG for everything data-side (splits, shuffles, augmentation parameters).
 * It lives in JS so that subsets and batch orders never depend on libtorch's generator,
 * its version, or the order in which other code drew from it.
 */
import { argumentError } from '../errors.js';

/** Mixes several integers into one 32-bit seed (murmur3's finalizer over a running hash). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= Math.floor(p / 0x100000000) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter), seeded through mixSeed; fast, with a
 * period of at least 2^32 and good statistical quality for this use.
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(-10, 10); // a float in [-10, 10)
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;

  constructor(seed: number, ...streams: number[]) {
    if (!Number.isFinite(seed)) throw argumentError('seed', 'a finite integer', seed);
    this.#a = mixSeed(seed, ...streams, 1);
    this.#b = mixSeed(seed, ...streams, 2);
    this.#c = mixSeed(seed, ...streams, 3);
    this.#d = 1;
    for (let i = 0; i < 12; i += 1) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 0x100000000;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw argumentError('n', 'an integer in [1, 2^32]', n);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** A standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const s = this.#spareNormal;
      this.#spareNormal = null;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p >= 1 || (p > 0 && this.next() < p);
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i += 1) p[i] = i;
    return this.shuffle(p);
  }
}
