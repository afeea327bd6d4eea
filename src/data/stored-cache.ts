/**
 * The decoded-image cache of a streaming dataset: stored forms (uint8, a little larger than
 * the crop) kept one buffer per image, up to a byte limit. Past the limit, images are decoded
 * again each epoch; the cache never grows beyond it, and no single buffer holds the whole set.
 */
import type { StoredImage } from './image-decode.js';

export class StoredImageCache {
  readonly #images = new Map<number, StoredImage>();
  #bytes = 0;

  /**
   * @param key the stored-form settings it holds images for (datasets with the same key share it)
   * @param limitBytes the most bytes of pixels it keeps (Infinity: all, 0: none)
   */
  constructor(
    readonly key: string,
    readonly limitBytes: number,
  ) {}

  get(id: number): StoredImage | undefined {
    return this.#images.get(id);
  }

  /** Keeps the image if it fits under the limit; returns whether it was kept. */
  offer(id: number, img: StoredImage): boolean {
    if (this.#images.has(id)) return true;
    if (this.#bytes + img.data.byteLength > this.limitBytes) return false;
    this.#images.set(id, img);
    this.#bytes += img.data.byteLength;
    return true;
  }

  /** Bytes of pixels held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Images held. */
  get size(): number {
    return this.#images.size;
  }

  /** Lets every image go (for memory checks and callers done with a dataset). */
  clear(): void {
    this.#images.clear();
    this.#bytes = 0;
  }
}
