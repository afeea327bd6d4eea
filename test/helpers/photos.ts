/**
 * Photos made at test time with sharp: smooth, camera-like content (gradients and discs with
 * a little noise, so JPEG and resampling behave as on real photos), an optional marker in the
 * top-left corner, and EXIF orientation when asked. Deterministic for a seed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../../src/sampling/rng.js';

export interface PhotoOptions {
  width: number;
  height: number;
  seed?: number;
  /** Side of a pure red square in the upright image's top-left corner (0: none). */
  marker?: number;
  /** EXIF orientation to store: the pixels are written so that a viewer shows the upright image. */
  orientation?: 1 | 3 | 6 | 8;
  quality?: number;
  format?: 'jpeg' | 'png';
}

/** Upright RGB pixels (HWC) of a test photo. */
export function photoPixels(o: PhotoOptions): Buffer {
  const { width: w, height: h } = o;
  const rng = new Rng(o.seed ?? 0, 0x9407);
  const discs = Array.from({ length: 4 }, () => ({ x: rng.uniform(0, w), y: rng.uniform(0, h), r: rng.uniform(0.1, 0.3) * Math.min(w, h), c: [rng.int(256), rng.int(256), rng.int(256)] }));
  const tint = [rng.uniform(0.3, 1), rng.uniform(0.3, 1), rng.uniform(0.3, 1)];
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      let px = [255 * tint[0]! * (x / w), 255 * tint[1]! * (y / h), 255 * tint[2]! * (1 - x / w)];
      for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) px = d.c;
      for (let c = 0; c < 3; c += 1) raw[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(px[c]! + rng.uniform(-4, 4))));
      if (o.marker && x < o.marker && y < o.marker) raw.set([255, 0, 0], (y * w + x) * 3);
    }
  }
  return raw;
}

/** The rotation (degrees clockwise) that undoes each stored orientation. */
const STORED_ROTATION: Record<number, number> = { 1: 0, 3: 180, 6: -90, 8: 90 };

/** Writes a test photo; with an orientation, the stored pixels are rotated and the EXIF tag undoes it. */
export async function writePhoto(path: string, o: PhotoOptions): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let img = sharp(photoPixels(o), { raw: { width: o.width, height: o.height, channels: 3 } });
  const orientation = o.orientation ?? 1;
  if (orientation !== 1) {
    // rotate() then bakes the turn in; a second pipeline stamps the tag that turns it back.
    const turned = await img.rotate(STORED_ROTATION[orientation]).raw().toBuffer({ resolveWithObject: true });
    img = sharp(turned.data, { raw: { width: turned.info.width, height: turned.info.height, channels: 3 } }).withMetadata({ orientation });
  }
  const out = o.format === 'png' ? img.png() : img.jpeg({ quality: o.quality ?? 90 });
  writeFileSync(path, await out.toBuffer());
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k += 1) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A decompression bomb: a PNG of a few hundred bytes whose header claims side x side gray pixels. */
export function pngBomb(side = 50000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(side + 1));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A small real JPEG whose frame header is patched to claim 65,535 x 65,535 pixels. */
export async function jpegBomb(): Promise<Buffer> {
  const jpg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  for (let i = 2; i < jpg.length - 9; ) {
    const marker = jpg[i + 1]!;
    const len = jpg.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      jpg.writeUInt16BE(0xffff, i + 5);
      jpg.writeUInt16BE(0xffff, i + 7);
      return jpg;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker in the test JPEG');
}
