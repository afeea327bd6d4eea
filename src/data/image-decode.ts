/**
 * Every sharp (libvips) pipeline of tlcv's data side. Images are turned upright from their
 * EXIF orientation, flattened over a fixed background, converted to gray or sRGB and resized
 * while decoding (libvips shrinks JPEG and WebP on load when a resize follows, so a
 * 12-megapixel photo is never decoded whole for a 256 px result).
 *
 * Files larger than PIXEL_LIMIT are refused before any pixel is decoded: a PNG header may
 * claim 50,000 x 50,000 pixels in a few kilobytes.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Box } from '../sampling/boxes.js';
import { storedSize, type Background, type Interpolation, type PreprocessConfig } from './preprocess.js';

/** sharp's own default (0x3FFF squared, 268 megapixels): larger images are refused as bombs. */
export const PIXEL_LIMIT = 0x3fff * 0x3fff;

// libvips's operation cache keeps recent results and open files for reuse; a data pipeline
// never decodes the same file twice in a row, so the cache only adds RSS and open files.
sharp.cache(false);

/** An image decoded to its stored form: uint8 HWC (sharp's raw layout). */
export interface StoredImage {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** sharp's kernels for timm's interpolation names (libvips scales the kernel when shrinking, as PIL does). */
const KERNELS: Record<Interpolation, keyof sharp.KernelEnum> = { bilinear: 'linear', bicubic: 'cubic', nearest: 'nearest', lanczos: 'lanczos3' };

export type Probe = { ok: true; width: number; height: number; gray: boolean } | { ok: false; why: string };

function megapixels(w: number, h: number): string {
  return `${((w * h) / 1e6).toFixed(0)} megapixels`;
}

/**
 * Reads an image's header (a file, or bytes such as a request body): its upright size (EXIF
 * orientations 5-8 swap the sides), or why it is bad.
 */
export async function probeImage(input: string | Uint8Array): Promise<Probe> {
  try {
    const size = typeof input === 'string' ? (await stat(input)).size : input.length;
    if (size === 0) return { ok: false, why: 'empty file (0 bytes)' };
    const m = await sharp(input, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return { ok: false, why: 'no image size in its header' };
    if (m.width * m.height > PIXEL_LIMIT) return { ok: false, why: bombReason(m.width, m.height) };
    const swap = (m.orientation ?? 1) >= 5;
    return { ok: true, width: swap ? m.height : m.width, height: swap ? m.width : m.height, gray: (m.channels ?? 3) <= 2 };
  } catch (e) {
    return { ok: false, why: await failureReason(input, e) };
  }
}

function bombReason(w: number, h: number): string {
  return `claims ${w}x${h} pixels (${megapixels(w, h)}), over the limit of ${megapixels(0x3fff, 0x3fff)}: a decompression bomb or an image too large to decode safely`;
}

/** Why a decode failed, in words: a missing or unreadable file is told apart from a corrupt one. */
export async function failureReason(input: string | Uint8Array, e: unknown): Promise<string> {
  const st =
    typeof input === 'string'
      ? await stat(input).then(
          (s) => ({ size: s.size, code: '' }),
          (err: NodeJS.ErrnoException) => ({ size: -1, code: err.code ?? '' }),
        )
      : { size: input.length, code: '' };
  if (st.code === 'ENOENT') return 'the file no longer exists (deleted or moved after the folder was indexed?)';
  if (st.code === 'EACCES' || st.code === 'EPERM') return 'cannot be read (permission denied)';
  if (st.size === 0) return 'empty file (0 bytes)';
  const msg = (e as Error)?.message ?? String(e);
  if (/permission denied/i.test(msg)) return 'cannot be read (permission denied)';
  if (/pixel limit/i.test(msg)) return `its size is over the limit of ${megapixels(0x3fff, 0x3fff)}: a decompression bomb or an image too large to decode safely`;
  if (/maximum supported image dimension/i.test(msg)) return `its header claims a size past what the decoder supports (${msg.split(':').pop()?.trim()}): a decompression bomb or a corrupt file`;
  if (/unsupported image format/i.test(msg)) return 'not an image (unsupported or unknown format)';
  return `corrupt or unreadable (${msg.split('\n')[0]})`;
}

/** The part every pipeline shares: upright, flattened, in the wanted channels. */
function opened(input: string | Uint8Array, channels: number, background: Background): sharp.Sharp {
  const img = sharp(input, { limitInputPixels: PIXEL_LIMIT, failOn: 'warning' })
    .rotate()
    .flatten({ background: background === 'white' ? '#ffffff' : '#000000' });
  return channels === 1 ? img.grayscale() : img.toColourspace('srgb');
}

/** HWC (sharp's raw layout) to CHW, taking the first `channels` channels (alpha is already flattened). */
export function toPlanar(hwc: Uint8Array, have: number, channels: number, pixels: number): Uint8Array {
  if (channels === 1 && have === 1) return hwc.length === pixels ? hwc : hwc.slice(0, pixels);
  const out = new Uint8Array(channels * pixels);
  if (channels === 3 && have === 3) {
    // The common case in one pass: this loop is a measurable part of decoding small images.
    for (let p = 0, q = 0; p < pixels; p += 1, q += 3) {
      out[p] = hwc[q]!;
      out[pixels + p] = hwc[q + 1]!;
      out[2 * pixels + p] = hwc[q + 2]!;
    }
    return out;
  }
  for (let c = 0; c < channels; c += 1) {
    const src = Math.min(c, have - 1);
    const plane = c * pixels;
    for (let p = 0; p < pixels; p += 1) out[plane + p] = hwc[p * have + src]!;
  }
  return out;
}

/**
 * The whole image resized to (height, width): stretched ('fill', digit-sized data and
 * `decodeImage`) or centre-cropped ('cover'). uint8 CHW, or the reason it failed.
 */
export async function decodeWhole(
  path: string | Uint8Array,
  o: { channels: number; height: number; width: number; fit?: 'fill' | 'cover'; background?: Background },
): Promise<Uint8Array | string> {
  try {
    const img = opened(path, o.channels, o.background ?? 'black').resize(o.width, o.height, { fit: o.fit === 'cover' ? 'cover' : 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    if (info.width !== o.width || info.height !== o.height) return `decoded to ${info.width}x${info.height}, expected ${o.width}x${o.height}`;
    return toPlanar(data, info.channels, o.channels, o.height * o.width);
  } catch (e) {
    return failureReason(path, e);
  }
}

/**
 * Decodes a file (or an image's bytes) to its stored form (see `storedSize`) from its upright
 * size in the index, in one libvips call, so that it runs to the end on libvips's threads
 * while JS is busy.
 */
export async function decodeStored(input: string | Uint8Array, upright: [number, number], cfg: PreprocessConfig): Promise<StoredImage | string> {
  const [sh, sw] = storedSize(upright[0], upright[1], cfg);
  try {
    const img = opened(input, cfg.inputSize[0], cfg.background).resize(sw, sh, { fit: 'fill', kernel: KERNELS[cfg.interpolation] });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { data, height: info.height, width: info.width, channels: info.channels };
  } catch (e) {
    return failureReason(input, e);
  }
}

/**
 * The model input cut from a stored form: the box, resized to the input size (RandomResizedCrop
 * stretches, as torchvision's does), mirrored when flip is set. uint8 CHW. The streaming and
 * the cached paths both end here, so they give the same bytes.
 */
export async function cutRegion(img: StoredImage, box: Box, flip: boolean, cfg: PreprocessConfig): Promise<Uint8Array> {
  const [c, h, w] = cfg.inputSize;
  const [top, left, bh, bw] = box;
  if (bh === h && bw === w && !flip) {
    // The eval crop needs no resampling: copy the window straight into planes.
    const out = new Uint8Array(c * h * w);
    const plane = h * w;
    for (let y = 0; y < h; y += 1) {
      const row = ((top + y) * img.width + left) * img.channels;
      for (let x = 0; x < w; x += 1) for (let k = 0; k < c; k += 1) out[k * plane + y * w + x] = img.data[row + x * img.channels + Math.min(k, img.channels - 1)]!;
    }
    return out;
  }
  let pipe = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 } })
    .extract({ left, top, width: bw, height: bh })
    .resize(w, h, { fit: 'fill', kernel: KERNELS[cfg.interpolation] });
  if (flip) pipe = pipe.flop();
  const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
  return toPlanar(data, info.channels, c, h * w);
}
