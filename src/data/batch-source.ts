/**
 * What every pass over data consumes (training, evaluation, feature extraction, adaptation):
 * any source of batches that knows its length and can be set to an epoch. A source with
 * `[Symbol.asyncIterator]` (a prefetching loader) is read with `for await`; otherwise its
 * synchronous iterator is used, and the event loop is still let run every 20 ms so that
 * signals, timers and output streams are served meanwhile.
 */
import type { Batch } from './loader.js';

/** A DataLoader, a loader over cached features, or any pipeline yielding {@link Batch}es. */
export interface BatchSource {
  /** Batches per epoch. */
  readonly length: number;
  /** Chooses the epoch whose order (and augmentation draws) the next iteration uses. */
  setEpoch(epoch: number): void;
  [Symbol.iterator]?(): Iterator<Batch>;
  [Symbol.asyncIterator]?(): AsyncIterator<Batch>;
}

// A turn of the event loop costs about as much as a tiny training step: take one every 20 ms.
const YIELD_EVERY_MS = 20;

/**
 * Calls `fn` on each batch of the source's current epoch, in order, awaiting it when it returns a
 * promise. The caller owns the batch's tensors.
 *
 * @example
 * loader.setEpoch(0);
 * await forEachBatch(loader, (b) => { tidy(() => step(b)); b.x.dispose(); b.y.dispose(); });
 */
export async function forEachBatch(source: BatchSource, fn: (batch: Batch) => void | Promise<void>): Promise<void> {
  let last = performance.now();
  const each = async (batch: Batch): Promise<void> => {
    const r = fn(batch);
    if (r !== undefined) await r;
    if (performance.now() - last >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  };
  if (source[Symbol.asyncIterator] !== undefined) {
    for await (const batch of { [Symbol.asyncIterator]: () => source[Symbol.asyncIterator]!() }) await each(batch);
  } else if (source[Symbol.iterator] !== undefined) {
    for (const batch of { [Symbol.iterator]: () => source[Symbol.iterator]!() }) await each(batch);
  } else {
    throw new TypeError('a batch source needs [Symbol.iterator] or [Symbol.asyncIterator]');
  }
}
