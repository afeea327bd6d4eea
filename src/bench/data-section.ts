/**
 * `tlcv bench`'s data section: decode throughput of a folder of phone-size JPEGs (decode,
 * RandomResizedCrop(224), flip, normalise), tlcv's streaming loader against torchvision's
 * ImageFolder + DataLoader(num_workers=2) in alternating repetitions, then peak RSS of
 * streaming epochs in one fresh tlcv process per folder size and cache setting.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import type { BenchContext } from './context.js';
import type { DataDecodeJob, DataDecodeResult, DataMemoryJob, DataMemoryResult } from './jobs.js';
import { photoFolder, PHOTO_HEIGHT, PHOTO_WIDTH } from './photo-files.js';
import { WorkerProcess } from './protocol.js';
import { figure, type DataFigures } from './results.js';
import { startTlcv } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));

/** peers/data_bench.py of this package, found by walking up from this file. */
function dataPeerScript(): string {
  for (let dir = here, i = 0; i < 6; i += 1, dir = dirname(dir)) {
    const candidate = join(dir, 'peers', 'data_bench.py');
    if (existsSync(candidate)) return candidate;
  }
  throw new TlcvError('FILE', `peers/data_bench.py not found above ${here}: the torchvision peer script ships with the package`);
}

function startDataPeer(ctx: BenchContext): WorkerProcess {
  const threads = String(ctx.workerEnv.threads);
  return new WorkerProcess('torchvision-data', ctx.workerEnv.python, ['-u', dataPeerScript()], { ...process.env, OMP_NUM_THREADS: threads, TLCV_THREADS: threads }, ctx.workerEnv.echo);
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function decodeFigures(ctx: BenchContext, dir: string): Promise<DataFigures['decode']> {
  const d = ctx.cfg.data!;
  const job: DataDecodeJob = { kind: 'data-decode', dir, images: d.throughputImages, batch: d.batch, size: d.size, seed: ctx.cfg.seed, workers: d.peerWorkers, mean: MEAN, std: STD };
  const tlcv = startTlcv(ctx.workerEnv, 'tlcv-data');
  const peer = startDataPeer(ctx);
  const samples = { tlcv: [] as number[], peer: [] as number[] };
  try {
    for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
      const sides = rep % 2 === 0 ? (['tlcv', 'peer'] as const) : (['peer', 'tlcv'] as const);
      for (const side of sides) {
        const r = await (side === 'tlcv' ? tlcv : peer).request<DataDecodeResult>({ ...job, seed: ctx.cfg.seed + rep });
        samples[side].push(r.images / r.seconds);
      }
      ctx.log(`  decode + RandomResizedCrop(${d.size}) + flip: tlcv ${samples.tlcv.at(-1)!.toFixed(1)} images/s, torchvision ${samples.peer.at(-1)!.toFixed(1)}`);
    }
  } finally {
    await Promise.all([tlcv.close(), peer.close()]);
  }
  const t = figure(samples.tlcv);
  const p = figure(samples.peer);
  return { tlcv: t, peer: p, peerWorkers: d.peerWorkers, ratio: t.median / p.median };
}

/**
 * Runs the data section into ctx.report.data (decode figures stay null if the peer fails,
 * the memory runs still count).
 */
export async function dataSection(ctx: BenchContext): Promise<void> {
  const d = ctx.cfg.data!;
  const out: DataFigures = { photo: `${PHOTO_WIDTH}x${PHOTO_HEIGHT} JPEG (quality 90, every 4th portrait), ${d.distinct} distinct`, size: d.size, batch: d.batch, decode: null, memory: [] };
  ctx.report.data = out;
  const dir = await photoFolder(d.throughputPhotos, d.distinct, ctx.log);
  let decodeError: unknown = null;
  try {
    out.decode = await decodeFigures(ctx, dir);
  } catch (e) {
    decodeError = e;
  }
  for (const m of d.memory) {
    const folder = await photoFolder(m.photos, d.distinct, ctx.log);
    // A fresh process per run: peak RSS is a process's whole life.
    const w = startTlcv(ctx.workerEnv, `tlcv-data-memory-${m.photos}-${m.cacheImages}`);
    try {
      const job: DataMemoryJob = { kind: 'data-memory', dir: folder, cacheImages: m.cacheImages, epochs: d.memoryEpochs, batch: d.batch, size: d.size };
      const r = await w.request<DataMemoryResult>({ ...job });
      out.memory.push({ photos: m.photos, cacheImages: m.cacheImages, peakRss: r.peakRss, rssPerEpoch: r.rssPerEpoch, cacheBytes: r.cacheBytes, cacheLimit: r.cacheLimit, seconds: r.seconds });
      ctx.log(`  ${m.photos} photos, --cache-images ${m.cacheImages}: peak RSS ${mib(r.peakRss)}, cache ${mib(r.cacheBytes)}, ${r.seconds.toFixed(0)} s`);
    } finally {
      await w.close();
    }
  }
  if (decodeError !== null) throw decodeError;
}
