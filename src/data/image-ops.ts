/**
 * Whole-dataset image work (resize, channel conversion, domain shift) done with native ops
 * a chunk at a time: uint8 in, float in [0, 1] through the op, uint8 out, so memory stays
 * at one chunk of floats whatever the dataset's size.
 */
import { F, fromTypedArray, invoke, tidy, type Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import { imageBytes, type ImageDataset } from './dataset.js';

const CHUNK = 512;

/**
 * Runs fn on each chunk of images as float NCHW in [0, 1]; fn returns images of `out`'s
 * shape, also in [0, 1]; they are rounded back to uint8.
 */
export function mapImages(
  ds: ImageDataset,
  out: { channels: number; height: number; width: number },
  fn: (x: Tensor, start: number) => Tensor,
): Uint8Array {
  const inSize = imageBytes(ds);
  const outSize = imageBytes(out);
  const result = new Uint8Array(ds.n * outSize);
  for (let start = 0; start < ds.n; start += CHUNK) {
    const b = Math.min(CHUNK, ds.n - start);
    const bytes = tidy(() => {
      const x = fromTypedArray(ds.images.subarray(start * inSize, (start + b) * inSize), [b, ds.channels, ds.height, ds.width]).float().div_(255);
      const y = fn(x, start);
      const shape = y.shape;
      if (shape.join() !== [b, out.channels, out.height, out.width].join()) {
        throw new TlcvError('DATA', `internal: image op returned [${shape.join(', ')}], expected [${[b, out.channels, out.height, out.width].join(', ')}]`);
      }
      return y.mul(255).unary('round').clamp(0, 255).to('uint8').toTypedArray() as Uint8Array;
    });
    result.set(bytes, start * outSize);
  }
  return result;
}

/** PIL's luminance weights (ITU-R 601-2), which torchvision's Grayscale also uses. */
const LUMA = [0.299, 0.587, 0.114];

/** Converts float NCHW between 1 and 3 channels (gray is repeated; RGB is weighted to luma). */
export function convertChannels(x: Tensor, channels: number): Tensor {
  const c = x.shape[1]!;
  if (c === channels) return x;
  if (c === 1 && channels === 3) return x.expand([x.shape[0]!, 3, x.shape[2]!, x.shape[3]!]).contiguous();
  if (c === 3 && channels === 1) {
    const w = fromTypedArray(Float32Array.from(LUMA), [1, 3, 1, 1]);
    return x.mul(w).sum(1, true);
  }
  if (c === 4 && channels === 3) return x.narrow(1, 0, 3);
  throw new TlcvError('DATA', `cannot convert ${c}-channel images to ${channels} channels: tlcv converts between 1 (gray) and 3 (RGB)`);
}

/** Bilinear resize, antialiased when shrinking (as PIL and torchvision's antialias=True do). */
export function resizeImages(x: Tensor, height: number, width: number): Tensor {
  const [, , h, w] = x.shape as [number, number, number, number];
  if (h === height && w === width) return x;
  if (height < h || width < w) return invoke('_upsample_bilinear2d_aa', [x, [height, width], false, null, null]) as Tensor;
  return F.interpolate(x, { size: [height, width], mode: 'bilinear', alignCorners: false });
}

/**
 * The dataset with the given channels and size, so any dataset can feed any model (MNIST's
 * 1x28x28 into a 3x224x224 ResNet, an RGB folder into the 1-channel seed CNN). Returns ds
 * itself when it already fits.
 *
 * @example
 * const rgb = conformDataset(mnistTrain, { channels: 3, height: 32, width: 32 });
 */
export function conformDataset(ds: ImageDataset, target: { channels: number; height: number; width: number }): ImageDataset {
  const { channels, height, width } = target;
  if (![channels, height, width].every((v) => Number.isInteger(v) && v > 0)) {
    throw new TlcvError('ARGUMENT', `Expected positive integers for channels, height and width but received ${channels}, ${height}, ${width}`);
  }
  if (ds.channels === channels && ds.height === height && ds.width === width) return ds;
  // Convert where there are fewer channels: gray->RGB after resizing, RGB->gray before.
  const images = mapImages(ds, target, (x) =>
    channels < ds.channels ? resizeImages(convertChannels(x, channels), height, width) : convertChannels(resizeImages(x, height, width), channels),
  );
  return { ...ds, images, channels, height, width, source: `${ds.source} (converted to ${channels}x${height}x${width})` };
}
