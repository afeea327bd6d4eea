/**
 * Micro-batching: requests that arrive close together run through the model as one batch, up
 * to `maxBatch` items or `maxWaitMs` after the first one, whichever comes first. A batched
 * forward costs far less per image than one forward per image. The wait is adaptive: while
 * batches find one item each (one client, or a quiet server), a request runs on the next turn
 * of the event loop with whatever arrived with it, so a lone client pays no batching delay;
 * once a batch finds company, requests wait up to maxWaitMs for more (`wait: 'fixed'` always
 * waits). `maxBatch` 1 turns batching off.
 */
import { argumentError } from '../errors.js';

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** 'adaptive' (default): no wait while batches come alone; 'fixed': the first item always waits maxWaitMs. */
  wait?: 'adaptive' | 'fixed';
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class MicroBatcher<I, O> {
  readonly #run: (items: I[]) => O[];
  readonly #o: BatcherOptions;
  #queue: Pending<I, O>[] = [];
  #timer: NodeJS.Timeout | null = null;
  #batches = 0;
  /** Items in the last batch: the load the next wait is chosen by. */
  #lastBatch = 0;

  /**
   * `run` maps a batch of items to their results, in order, synchronously (a libtorch forward).
   *
   * @example
   * const batcher = new MicroBatcher((xs: Uint8Array[]) => clf.classify(xs), { maxBatch: 16, maxWaitMs: 5 });
   * const probs = await batcher.submit(pixels);
   */
  constructor(run: (items: I[]) => O[], o: BatcherOptions) {
    if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1) throw argumentError('maxBatch', 'a positive integer', o.maxBatch);
    if (!(o.maxWaitMs >= 0)) throw argumentError('maxWaitMs', 'a number of milliseconds >= 0', o.maxWaitMs);
    this.#run = run;
    this.#o = { ...o };
  }

  /** Items waiting for their batch. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Batches run so far. */
  get batches(): number {
    return this.#batches;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length >= this.#o.maxBatch || this.#o.maxWaitMs === 0) {
        this.#clearTimer();
        // Off this call stack, so the caller's handler finishes before the forward runs.
        this.#timer = setTimeout(() => this.#flush(), 0);
      } else if (this.#timer === null) {
        this.#timer = this.#o.wait !== 'fixed' && this.#lastBatch <= 1 ? setTimeout(() => this.#flush(), 0) : setTimeout(() => this.#flush(), this.#o.maxWaitMs);
      }
    });
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #flush(): void {
    this.#clearTimer();
    const batch = this.#queue.splice(0, this.#o.maxBatch);
    if (batch.length === 0) return;
    this.#batches += 1;
    this.#lastBatch = batch.length;
    try {
      const out = this.#run(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
    // What queued beyond one batch has waited through this forward already: run it next.
    if (this.#queue.length > 0) this.#timer = setTimeout(() => this.#flush(), 0);
  }
}
