/**
 * By-hand benchmark of the data side against torchvision/PIL, on the same files in the same
 * run: IDX load of Fashion-MNIST train, ImageFolder decode + resize, batch augmentation, and
 * the DataLoader's gather (which decides whether prefetching would pay).
 *
 *   npx tsc -p tsconfig.json && OMP_WAIT_POLICY=PASSIVE node dist/scripts/probes/data-bench.js [--threads N] [--images N] [--rounds N]
 *
 * OMP_WAIT_POLICY=PASSIVE (inherited by the peer): on a loaded machine libgomp's spinning
 * threads otherwise make small ops on both sides many times slower.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { DataLoader, DEBIAN_FASHION_MNIST_DIR, loadImageFolder, readIdxDataset, Rng } from '../../src/data/index.js';
import { Augmenter, parseAugment } from '../../src/transforms/index.js';
import { rand, manualSeed, setNumThreads, getNumThreads, tidy } from '../../src/tensor/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const threads = arg('threads', 2);
const folderImages = arg('images', 400);
const rounds = arg('rounds', 2);
setNumThreads(threads);

async function best(fn: () => unknown, reps: number): Promise<number> {
  let min = Infinity;
  for (let r = 0; r < reps; r += 1) {
    const t0 = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min / 1000;
}

async function makeFolder(root: string, count: number): Promise<void> {
  const rng = new Rng(1);
  const [w, h] = [320, 240];
  for (let i = 0; i < count; i += 1) {
    const cls = join(root, `class${i % 5}`);
    mkdirSync(cls, { recursive: true });
    const raw = Buffer.alloc(w * h * 3);
    const [a, b] = [rng.int(255), rng.int(255)];
    for (let p = 0; p < w * h; p += 1) {
      const x = p % w;
      const y = Math.floor(p / w);
      raw[p * 3] = (x + a) % 256;
      raw[p * 3 + 1] = (y + b) % 256;
      raw[p * 3 + 2] = ((x * y) / 64 + rng.int(32)) % 256;
    }
    writeFileSync(join(cls, `${i}.jpg`), await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-bench-'));
  const gzImages = join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz');
  const gzLabels = join(DEBIAN_FASHION_MNIST_DIR, 'train-labels-idx1-ubyte.gz');
  const rawImages = join(dir, 'train-images-idx3-ubyte');
  const rawLabels = join(dir, 'train-labels-idx1-ubyte');
  writeFileSync(rawImages, gunzipSync(readFileSync(gzImages)));
  writeFileSync(rawLabels, gunzipSync(readFileSync(gzLabels)));
  const folder = join(dir, 'folder');
  await makeFolder(folder, folderImages);
  const size = 224;

  const augment = [
    { name: 'spec_mnist', n: 2048, c: 1, h: 28, w: 28, preset: 'spec', batch: 256 },
    { name: 'standard_224', n: 128, c: 3, h: 224, w: 224, preset: 'standard', batch: 32 },
  ];
  const measureOurs = async (): Promise<Record<string, number>> => {
    const r: Record<string, number> = {};
    r.idx_gz_s = await best(() => readIdxDataset(gzImages, gzLabels), 5);
    r.idx_raw_s = await best(() => readIdxDataset(rawImages, rawLabels), 5);
    r.folder_s = await best(() => loadImageFolder(folder, { size: [size, size], channels: 3 }), 2);
    for (const a of augment) {
      manualSeed(0);
      const aug = new Augmenter(parseAugment(a.preset), 1);
      const x = rand([a.batch, a.c, a.h, a.w]);
      r[`augment_${a.name}_s`] = await best(() => {
        for (let s = 0; s < a.n; s += a.batch) tidy(() => aug.apply(x));
      }, 3);
      x.dispose();
    }
    return r;
  };
  const peerCfg = { threads, reps: 5, fashionImages: gzImages, fashionLabels: gzLabels, rawImages, rawLabels, folder, size, augment };
  const measurePeer = (): Record<string, number | string> => {
    const py = spawnSync(process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', [resolve('peers/data_probe.py'), JSON.stringify(peerCfg)], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`peer failed: ${py.stderr}`);
    return JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  };
  // Alternate the two sides and keep each one's best, so a burst of load on this shared
  // machine does not land on one side only.
  const ours: Record<string, number> = {};
  const peer: Record<string, number | string> = {};
  const keepBest = (into: Record<string, number | string>, from: Record<string, number | string>): void => {
    for (const [k, v] of Object.entries(from)) into[k] = typeof v === 'number' && typeof into[k] === 'number' ? Math.min(into[k] as number, v) : v;
  };
  for (let round = 0; round < rounds; round += 1) {
    keepBest(ours, await measureOurs());
    keepBest(peer, measurePeer());
  }

  // Gather vs whole batch: what a prefetching thread could at best hide.
  const fashion = await readIdxDataset(gzImages, gzLabels);
  const loader = new DataLoader(fashion, { batchSize: 256, shuffle: true, mean: [0.286], std: [0.353] });
  const idx = loader.order().subarray(0, 256);
  const gatherMs = (await best(() => loader.gather(idx), 50)) * 1000;
  const batchMs = (await best(() => tidy(() => loader.batch(idx).x.sum().item()), 50)) * 1000;

  const rows: [string, string, string][] = [
    ['Fashion-MNIST train IDX (.gz), ms', (ours.idx_gz_s! * 1000).toFixed(0), ((peer.idx_gz_s as number) * 1000).toFixed(0)],
    ['Fashion-MNIST train IDX (raw), ms', (ours.idx_raw_s! * 1000).toFixed(0), ((peer.idx_raw_s as number) * 1000).toFixed(0)],
    [`ImageFolder ${folderImages} JPEG 320x240 -> ${size}x${size}, img/s`, (folderImages / ours.folder_s!).toFixed(0), `${(folderImages / (peer.folder_s as number)).toFixed(0)} (1 process), ${(folderImages / (peer.folder_workers_s as number)).toFixed(0)} (${threads} workers)`],
  ];
  for (const a of augment) {
    const key = `augment_${a.name}_s`;
    rows.push([`augment ${a.preset} ${a.c}x${a.h}x${a.w}, img/s`, (a.n / ours[key]!).toFixed(0), (a.n / (peer[key] as number)).toFixed(0)]);
  }
  console.log(`threads: tlcv ${getNumThreads()}, torch ${peer.threads} (torch ${peer.torch}, torchvision ${peer.torchvision})`);
  console.log(`| measure | tlcv | torchvision/PIL |\n|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  console.log(`DataLoader, 256 Fashion-MNIST images: gather ${gatherMs.toFixed(3)} ms of a ${batchMs.toFixed(3)} ms batch`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
