/**
 * When a server gives its free memory back: once it has had nothing to do for a while.
 *
 * Under load the memory a server touched is what the next batch needs (the CPU cache's blocks,
 * malloc's free heap pages), and giving it back would cost a page fault per page on the next
 * request; idle, the same memory is only RSS held for nothing. Measured on `tlcv serve`,
 * mobilenet_v2 at 224 px under 32 keep-alive clients (scripts/probes/serve-memory.ts): 255 MB
 * before the load, 1,350 MB after it, of which 880 MB were blocks held by the CPU cache and
 * 143 MB free memory in glibc's heaps (with the cache off, glibc kept 665 MB free instead), none
 * of it given back while idle. After `afterMs` without a request both are released
 * (releaseFreeMemory, about 15 ms), once per idle spell: 300 MB again.
 */
import { releaseFreeMemory } from '../tensor/index.js';

export class IdleMemoryRelease {
  readonly #afterMs: number;
  readonly #release: () => void;
  #timer: NodeJS.Timeout | null = null;
  #busy = 0;
  #releases = 0;

  /**
   * `afterMs` 0 turns releasing off. `release` is for tests of the policy alone.
   *
   * @example
   * const idle = new IdleMemoryRelease(10_000);
   * idle.begin(); // a request came in
   * idle.end();   // it was answered: 10 s later, if nothing else came, memory goes back
   */
  constructor(afterMs: number, release: () => void = releaseFreeMemory) {
    this.#afterMs = afterMs;
    this.#release = release;
  }

  /** Idle spells that ended in a release so far. */
  get releases(): number {
    return this.#releases;
  }

  begin(): void {
    this.#busy += 1;
    this.#cancel();
  }

  end(): void {
    this.#busy -= 1;
    if (this.#busy > 0 || this.#afterMs <= 0) return;
    this.#cancel();
    // unref: an idle timer must not keep a closing server's process alive.
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#releases += 1;
      this.#release();
    }, this.#afterMs).unref();
  }

  dispose(): void {
    this.#cancel();
  }

  #cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
