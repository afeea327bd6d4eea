/**
 * CIFAR-10 and CIFAR-100 in their binary ("-bin") form. CIFAR-10: data_batch_1..5.bin and
 * test_batch.bin, each record 1 label byte + 3072 pixel bytes. CIFAR-100: train.bin and
 * test.bin, each record a coarse and a fine label byte + 3072 pixel bytes (tlcv uses the
 * fine labels). Pixels are already planar R, G, B, 32x32: NCHW as stored.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import { checkDataset, type ImageDataset } from './dataset.js';

export type CifarKind = 'cifar10' | 'cifar100';
export type CifarSplit = 'train' | 'test';

const PIXELS = 3 * 32 * 32;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const CIFAR100_CLASSES = (
  'apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle ' +
  'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish ' +
  'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle ' +
  'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine ' +
  'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar ' +
  'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale ' +
  'willow_tree wolf woman worm'
).split(' ');

const LAYOUT = {
  cifar10: {
    sub: 'cifar-10-batches-bin',
    files: { train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'], test: ['test_batch.bin'] },
    labelBytes: 1,
    namesFile: 'batches.meta.txt',
    classes: CIFAR10_CLASSES,
  },
  cifar100: {
    sub: 'cifar-100-binary',
    files: { train: ['train.bin'], test: ['test.bin'] },
    labelBytes: 2,
    namesFile: 'fine_label_names.txt',
    classes: CIFAR100_CLASSES,
  },
} as const;

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** DIR itself, or the folder the official archive unpacks to inside it. */
async function resolveFolder(dir: string, kind: CifarKind, split: CifarSplit): Promise<string> {
  const layout = LAYOUT[kind];
  if (!(await isDir(dir))) throw new TlcvError('FILE', `${kind} folder ${dir} does not exist or is not a folder`);
  const nested = join(dir, layout.sub);
  const first = layout.files[split][0];
  const hasHere = await stat(join(dir, first)).then(() => true, () => false);
  if (!hasHere && (await isDir(nested))) return nested;
  return dir;
}

async function readClassNames(folder: string, kind: CifarKind): Promise<string[]> {
  const layout = LAYOUT[kind];
  try {
    const text = await readFile(join(folder, layout.namesFile), 'utf8');
    const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === layout.classes.length) return names;
  } catch {
    // The names file is optional: the official names are built in.
  }
  return [...layout.classes];
}

/**
 * Reads a CIFAR-10 or CIFAR-100 split from a folder of the official binary files.
 *
 * @example
 * const train = await readCifar('/data/cifar-10-batches-bin', 'cifar10', 'train'); // 50000x3x32x32
 */
export async function readCifar(dir: string, kind: CifarKind, split: CifarSplit): Promise<ImageDataset> {
  const layout = LAYOUT[kind];
  const folder = await resolveFolder(dir, kind, split);
  const files = layout.files[split].map((f) => join(folder, f));
  const missing: string[] = [];
  for (const f of files) if (!(await stat(f).then((s) => s.isFile(), () => false))) missing.push(f);
  if (missing.length > 0) {
    const present = await readdir(folder).catch(() => [] as string[]);
    throw new TlcvError(
      'FILE',
      `${kind} ${split} needs ${missing.map((m) => m.slice(folder.length + 1)).join(', ')} in ${folder} (found: ${present.slice(0, 12).join(', ') || 'nothing'}). ` +
        `Unpack the official binary version (${kind === 'cifar10' ? 'cifar-10-binary.tar.gz' : 'cifar-100-binary.tar.gz'}) there.`,
    );
  }
  const record = layout.labelBytes + PIXELS;
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  sizes.forEach((s, i) => {
    if (s === 0 || s % record !== 0) {
      throw new TlcvError('DATA', `${kind} file ${files[i]}: ${s} bytes is not a whole number of ${record}-byte records (${layout.labelBytes} label byte${layout.labelBytes > 1 ? 's' : ''} + 3072 pixels): truncated or not a ${kind} batch`);
    }
  });
  const n = sizes.reduce((a, s) => a + s / record, 0);
  const classes = await readClassNames(folder, kind);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const f of files) {
    const buf = await readFile(f);
    const count = buf.length / record;
    for (let r = 0; r < count; r += 1) {
      const off = r * record;
      const label = buf[off + layout.labelBytes - 1]!;
      if (label >= classes.length) {
        throw new TlcvError('DATA', `${kind} file ${f}: record ${r} has label ${label}, expected a label in [0, ${classes.length})`);
      }
      if (layout.labelBytes === 2 && buf[off]! >= 20) {
        throw new TlcvError('DATA', `${kind} file ${f}: record ${r} has coarse label ${buf[off]}, expected [0, 20): not a CIFAR-100 file`);
      }
      labels[at] = label;
      images.set(buf.subarray(off + layout.labelBytes, off + record), at * PIXELS);
      at += 1;
    }
  }
  return checkDataset({ name: `${kind}:${split}`, images, labels, n, channels: 3, height: 32, width: 32, classes, source: files.length === 1 ? files[0]! : `${folder}/${layout.files[split].join(', ')}` });
}

/**
 * Encodes images (N*3*32*32, planar) and labels as CIFAR binary records; CIFAR-100 needs
 * coarse labels too. Used by tests and by tools that export data.
 */
export function encodeCifarRecords(kind: CifarKind, images: Uint8Array, labels: ArrayLike<number>, coarse?: ArrayLike<number>): Uint8Array {
  const lb = LAYOUT[kind].labelBytes;
  const record = lb + PIXELS;
  const n = labels.length;
  if (images.length !== n * PIXELS) throw new TlcvError('ARGUMENT', `expected ${n * PIXELS} image bytes for ${n} CIFAR records, got ${images.length}`);
  const out = new Uint8Array(n * record);
  for (let i = 0; i < n; i += 1) {
    if (lb === 2) out[i * record] = coarse?.[i] ?? 0;
    out[i * record + lb - 1] = labels[i]!;
    out.set(images.subarray(i * PIXELS, (i + 1) * PIXELS), i * record + lb);
  }
  return out;
}
