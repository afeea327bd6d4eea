/**
 * An image folder's index: one subfolder per class (classes sorted by name, as torchvision
 * sorts them), optionally inside train/, val/ and test/ split folders, read into a list of
 * (path, label) without decoding any pixel. Both the in-memory loader and the streaming
 * dataset start here.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TlcvError } from '../errors.js';
import { SPLIT_NAMES, type SplitName } from './dataset.js';
import type { Probe } from './image-decode.js';

/** Names that are never images, skipped silently (OS litter). */
const LITTER = new Set(['thumbs.db', 'desktop.ini']);

export interface FolderEntry {
  path: string;
  label: number;
}

export interface FolderListing {
  /** The folder classes live in (dir, or dir/split). */
  root: string;
  classes: string[];
  entries: FolderEntry[];
}

function folderError(dir: string, e: unknown): TlcvError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : code === 'ENOTDIR' ? 'is not a folder' : `cannot be read (${code ?? (e as Error).message})`;
  return new TlcvError('FILE', `image folder ${dir} ${why}`);
}

async function listDir(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw folderError(dir, e);
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || LITTER.has(e.name.toLowerCase())) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) isDir = await stat(join(dir, e.name)).then((s) => s.isDirectory(), () => false);
    (isDir ? dirs : files).push(e.name);
  }
  const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return { dirs: dirs.sort(byCodePoint), files: files.sort(byCodePoint) };
}

async function listFilesDeep(dir: string): Promise<string[]> {
  const { dirs, files } = await listDir(dir);
  const nested = await Promise.all(dirs.map((d) => listFilesDeep(join(dir, d))));
  return [...files.map((f) => join(dir, f)), ...nested.flat()];
}

function noClasses(dir: string): TlcvError {
  return new TlcvError('DATA', `image folder ${dir} has no class folders: expected one subfolder per class, e.g. ${join(dir, 'cat', '001.jpg')}`);
}

/** Resolves the class root for a split and the class list (the union over all splits, so labels agree). */
async function resolveLayout(dir: string, split: SplitName | undefined): Promise<{ root: string; classes: string[] }> {
  const st = await stat(dir).catch((e: unknown) => {
    throw folderError(dir, e);
  });
  if (!st.isDirectory()) throw new TlcvError('FILE', `image folder ${dir} is not a folder`);
  const top = await listDir(dir);
  const splitDirs = top.dirs.filter((d) => (SPLIT_NAMES as readonly string[]).includes(d));
  const isSplitLayout = splitDirs.length > 0 && splitDirs.length === top.dirs.length;
  if (split === undefined) {
    if (isSplitLayout) {
      throw new TlcvError('DATA_SPEC', `image folder ${dir} holds split folders (${splitDirs.join(', ')}), not classes: name one, e.g. folder:${dir}:${splitDirs[0]}`);
    }
    if (top.dirs.length === 0) throw noClasses(dir);
    return { root: dir, classes: top.dirs };
  }
  if (!splitDirs.includes(split)) {
    const has = splitDirs.length > 0 ? `it has ${splitDirs.join(', ')}` : 'it has no train/val/test folders (use @frac=0.8,seed=S and @frac=0.8,seed=S,rest to split it)';
    throw new TlcvError('DATA_SPEC', `image folder ${dir} has no "${split}" split folder: ${has}`);
  }
  const perSplit = await Promise.all(splitDirs.map(async (s) => (await listDir(join(dir, s))).dirs));
  const classes = [...new Set(perSplit.flat())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length === 0) throw noClasses(join(dir, split));
  return { root: join(dir, split), classes };
}

/**
 * Lists a folder's images and their labels; a class folder with no files is an error, a
 * class missing from this split keeps its label with a warning.
 *
 * @example
 * const { classes, entries } = await listImageFolder('photos', 'train', console.warn);
 */
export async function listImageFolder(dir: string, split: SplitName | undefined, log: (m: string) => void): Promise<FolderListing> {
  const { root, classes } = await resolveLayout(dir, split);
  const entries: FolderEntry[] = [];
  const emptyClasses: string[] = [];
  for (const [label, cls] of classes.entries()) {
    const classDir = join(root, cls);
    const exists = await stat(classDir).then((s) => s.isDirectory(), () => false);
    if (!exists) {
      log(`warning: class "${cls}" has no folder in ${root}; it keeps label ${label} with no images in this split`);
      continue;
    }
    const files = await listFilesDeep(classDir);
    if (files.length === 0) emptyClasses.push(classDir);
    for (const f of files) entries.push({ path: f, label });
  }
  if (emptyClasses.length > 0) {
    throw new TlcvError('DATA', `image folder ${dir}: ${emptyClasses.length === 1 ? 'class folder' : 'class folders'} with no images: ${emptyClasses.join(', ')}`);
  }
  return { root, classes, entries };
}

/** Runs fn over items with at most `limit` in flight, keeping the results in order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The most common upright [height, width] among good probes. */
export function mostCommonSize(probes: Probe[]): [number, number] {
  const counts = new Map<string, number>();
  for (const p of probes) if (p.ok) counts.set(`${p.height}x${p.width}`, (counts.get(`${p.height}x${p.width}`) ?? 0) + 1);
  let best = '';
  let bestCount = -1;
  for (const [k, c] of counts) if (c > bestCount) [best, bestCount] = [k, c];
  const [h, w] = best.split('x').map(Number) as [number, number];
  return [h, w];
}

/**
 * Bad files found while loading: under 'error' one TlcvError lists every one of them, under
 * 'skip' a warning does and loading goes on without them.
 */
export function reportBadFiles(dir: string, bad: Map<string, string>, onBadImage: 'error' | 'skip' | undefined, log: (m: string) => void): void {
  if (bad.size === 0) return;
  const list = [...bad].map(([p, why]) => `  ${relative(dir, p) || p}: ${why}`).join('\n');
  if ((onBadImage ?? 'error') === 'error') {
    throw new TlcvError('DATA', `image folder ${dir}: ${bad.size} bad image file${bad.size > 1 ? 's' : ''} (use --on-bad-image skip to leave them out):\n${list}`);
  }
  log(`warning: skipped ${bad.size} bad image file${bad.size > 1 ? 's' : ''} in ${dir}:\n${list}`);
}
