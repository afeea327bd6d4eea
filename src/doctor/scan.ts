/**
 * The doctor's one pass over a folder: every file is read once, hashed (SHA-256 of its bytes),
 * its header read, decoded whole (a truncated file fails here, as it would in training) and
 * shrunk to 32x32 for its descriptors. What is kept per image is a few hundred numbers, so
 * memory grows with the index, never with the pixels.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { TlcvError } from '../errors.js';
import { PIXEL_LIMIT, SPLIT_NAMES, parseDataSpec, type SplitName } from '../data/index.js';
import { listImageFolder, mapPool } from '../data/folder-index.js';
import { DECODE_SIDE, describePixels, type Descriptors } from './descriptors.js';

export type ImageMode = 'gray' | 'rgb' | 'alpha';

export interface ScannedImage {
  path: string;
  /** 'train', 'val', 'test', or 'all' for a folder without split folders. */
  split: string;
  label: number;
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  width: number;
  height: number;
  mode: ImageMode;
  format: string;
  descriptors: Descriptors;
}

export interface BadImage {
  path: string;
  split: string;
  label: number;
  why: string;
}

export interface FolderScan {
  dir: string;
  splits: string[];
  classes: string[];
  images: ScannedImage[];
  bad: BadImage[];
}

export interface ScanOptions {
  /** Files read at once (default 4). */
  concurrency?: number;
  /** Read at most this many files, spread evenly over the folder (a cheap look before training). */
  maxImages?: number;
  log?: (line: string) => void;
}

interface Entry {
  path: string;
  split: string;
  label: number;
}

/** The splits a folder spec names: the one given, every split folder present, or the folder itself. */
async function listEntries(spec: string, log: (line: string) => void): Promise<{ dir: string; splits: string[]; classes: string[]; entries: Entry[] }> {
  const parsed = parseDataSpec(spec);
  if (parsed.source.kind !== 'folder') {
    throw new TlcvError('DATA_SPEC', `tlcv doctor checks image folders: expected folder:DIR or folder:DIR:train|val|test, got "${spec}"`);
  }
  if (Object.keys(parsed.modifiers).length > 0) {
    throw new TlcvError('DATA_SPEC', `tlcv doctor checks a whole folder: leave out the modifiers after "@" in "${spec}"`);
  }
  const { dir, split } = parsed.source;
  let splits: (SplitName | undefined)[] = [split];
  if (split === undefined) {
    const top = await readdir(dir, { withFileTypes: true }).catch(() => null);
    const dirs = (top ?? []).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    const present = SPLIT_NAMES.filter((s) => dirs.includes(s));
    if (present.length > 0 && present.length === dirs.length) splits = present;
  }
  const entries: Entry[] = [];
  let classes: string[] = [];
  for (const s of splits) {
    const listing = await listImageFolder(dir, s, log);
    classes = listing.classes;
    for (const e of listing.entries) entries.push({ path: e.path, split: s ?? 'all', label: e.label });
  }
  return { dir, splits: splits.map((s) => s ?? 'all'), classes, entries };
}

function modeOf(m: sharp.Metadata): ImageMode {
  if (m.hasAlpha === true) return 'alpha';
  return (m.channels ?? 3) <= 2 ? 'gray' : 'rgb';
}

/** One file: its hash, header and descriptors, or why it cannot be used. */
async function scanOne(e: Entry): Promise<ScannedImage | BadImage> {
  let buf: Buffer;
  try {
    buf = await readFile(e.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...e, why: code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(err)})` };
  }
  if (buf.length === 0) return { ...e, why: 'empty file (0 bytes)' };
  const sha256 = createHash('sha256').update(buf).digest('hex');
  try {
    const m = await sharp(buf, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) return { ...e, why: 'no image size in its header' };
    if (m.width * m.height > PIXEL_LIMIT) return { ...e, why: `claims ${m.width}x${m.height} pixels, over the decoder's limit: a decompression bomb or an image too large to decode safely` };
    // failOn 'warning' as the training pipeline decodes: a truncated file is bad here too.
    const raw = await sharp(buf, { limitInputPixels: PIXEL_LIMIT, failOn: 'warning' })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(DECODE_SIDE, DECODE_SIDE, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer();
    const swap = (m.orientation ?? 1) >= 5;
    return {
      ...e,
      bytes: buf.length,
      sha256,
      width: swap ? m.height : m.width,
      height: swap ? m.width : m.height,
      mode: modeOf(m),
      format: m.format ?? 'unknown',
      descriptors: describePixels(new Uint8Array(raw.buffer, raw.byteOffset, raw.length)),
    };
  } catch (err) {
    const msg = (err as Error)?.message ?? String(err);
    const why = /unsupported image format/i.test(msg) ? 'not an image (unsupported or unknown format)' : `corrupt or unreadable (${msg.split('\n')[0]})`;
    return { ...e, why };
  }
}

/** Every k-th entry, so that a capped look still sees every class and split. */
function spread<T>(items: T[], max: number | undefined): T[] {
  if (max === undefined || items.length <= max) return items;
  const step = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * step)]!);
}

/**
 * Reads every image of a folder spec (all its split folders when none is named).
 *
 * @example
 * const scan = await scanFolder('folder:photos', { concurrency: 4 });
 * scan.bad; // [{ path, why }]
 */
export async function scanFolder(spec: string, o: ScanOptions = {}): Promise<FolderScan> {
  const log = o.log ?? (() => {});
  const { dir, splits, classes, entries } = await listEntries(spec, log);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new TlcvError('FILE', `image folder ${dir} is not a folder`);
  const chosen = spread(entries, o.maxImages);
  const results = await mapPool(chosen, o.concurrency ?? 4, scanOne);
  const images: ScannedImage[] = [];
  const bad: BadImage[] = [];
  for (const r of results) ('why' in r ? bad : images).push(r as ScannedImage & BadImage);
  return { dir: join(dir), splits, classes, images, bad };
}
