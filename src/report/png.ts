/** PNG encoding of small images for the report's grid of mistakes. */
import sharp from 'sharp';
import { TlcvError, argumentError } from '../errors.js';

/**
 * Encodes an 8-bit image in channel-first layout (`[channels, height, width]`, as tensors hold
 * it) to PNG bytes. `scale` enlarges it by nearest-neighbour so 28x28 digits stay crisp in
 * viewers that smooth small images.
 *
 * @example
 * const png = await encodePng(uint8Pixels, 1, 28, 28, 3); // 84x84 greyscale PNG
 */
export async function encodePng(pixels: Uint8Array, channels: number, height: number, width: number, scale = 1): Promise<Buffer> {
  if (![1, 3, 4].includes(channels)) throw argumentError('channels', '1, 3 or 4', channels);
  for (const [name, v] of [['height', height], ['width', width], ['scale', scale]] as const) {
    if (!Number.isInteger(v) || v < 1) throw argumentError(name, 'positive integer', v);
  }
  if (!(pixels instanceof Uint8Array)) throw argumentError('pixels', 'Uint8Array', pixels);
  if (pixels.length !== channels * height * width) {
    throw new TlcvError('ARGUMENT', `Expected ${channels * height * width} bytes (${channels} x ${height} x ${width}) for pixels but received ${pixels.length}`);
  }
  // sharp reads raw pixels interleaved (height, width, channels).
  const plane = height * width;
  const interleaved = Buffer.alloc(pixels.length);
  for (let c = 0; c < channels; c += 1) {
    for (let i = 0; i < plane; i += 1) interleaved[i * channels + c] = pixels[c * plane + i];
  }
  let image = sharp(interleaved, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
  if (scale > 1) image = image.resize(width * scale, height * scale, { kernel: 'nearest' });
  return image.png().toBuffer();
}
