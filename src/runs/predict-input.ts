/** What `Model.predict` takes: image files, encoded images, or a tensor of pixels. */
import { TlcvError } from '../errors.js';
import { tidy, type Tensor } from '../tensor/index.js';

/** A path to an image file, an encoded image's bytes (PNG, JPEG, ...), or bytes with a name for messages. */
export type PredictInput = string | Uint8Array | { bytes: Uint8Array; name: string };

/**
 * A uint8 tensor of pixels, [N, C, H, W] or [C, H, W] at the model's input size (what
 * `Model.pixels` makes), as one pixel array per image: the form `classify` takes. A float
 * tensor is refused: its normalisation could not be checked.
 *
 * @example
 * const px = pixelsOfTensor(fromTypedArray(bytes, [2, 1, 28, 28]), [1, 28, 28]);
 */
export function pixelsOfTensor(t: Tensor, size: [number, number, number]): Uint8Array[] {
  const shape = t.shape.length === 3 ? [1, ...t.shape] : t.shape;
  const [c, h, w] = size;
  if (t.dtype !== 'uint8' || shape.length !== 4 || shape[1] !== c || shape[2] !== h || shape[3] !== w) {
    throw new TlcvError('ARGUMENT', `Expected a uint8 tensor of pixels [N, ${c}, ${h}, ${w}] for predict but received ${t.dtype} [${t.shape.join(', ')}] (decode images with model.pixels, or pass file paths or bytes)`);
  }
  const flat = tidy(() => t.contiguous().toTypedArray() as Uint8Array);
  const per = c * h * w;
  return Array.from({ length: shape[0]! }, (_, i) => flat.slice(i * per, (i + 1) * per));
}

/**
 * Each image of uint8 CHW pixels mirrored left to right (test-time augmentation's second view,
 * the flip training's augmentation makes).
 *
 * @example
 * const [m] = mirrorPixels([px], [3, 224, 224]);
 */
export function mirrorPixels(images: Uint8Array[], size: [number, number, number]): Uint8Array[] {
  const [c, h, w] = size;
  return images.map((src) => {
    const out = new Uint8Array(c * h * w);
    for (let row = 0; row < c * h; row += 1) {
      const at = row * w;
      for (let x = 0; x < w; x += 1) out[at + x] = src[at + w - 1 - x]!;
    }
    return out;
  });
}
