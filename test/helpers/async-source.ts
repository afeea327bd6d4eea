/** A DataLoader read through an async iterator, as a prefetching pipeline offers its batches. */
import type { Batch, DataLoader } from '../../src/data/index.js';
import type { BatchSource } from '../../src/train/index.js';

export class AsyncSource implements BatchSource {
  constructor(private readonly inner: DataLoader) {}
  get length(): number {
    return this.inner.length;
  }
  setEpoch(epoch: number): void {
    this.inner.setEpoch(epoch);
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (const b of this.inner) {
      // A turn of the event loop per batch, as a real prefetching source takes.
      await new Promise((r) => setImmediate(r));
      yield b;
    }
  }
}
