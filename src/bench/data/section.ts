/**
 * `tlcv bench`'s data section: decode throughput of a folder of phone-size JPEGs (decode,
 * RandomResizedCrop(224), flip, normalise), tlcv's streaming loader against torchvision's
 * ImageFolder + DataLoader(num_workers=2) in alternating repetitions; resnet18 trained end to
 * end on that folder (tlcv's Learner streaming, the same on pre-decoded in-memory images, and
 * torchvision's loop); then peak RSS of streaming epochs in one fresh tlcv process per folder
 * size and cache setting.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import { figure } from '../core/report.js';
import { mib } from '../core/format.js';
import { WorkerProcess } from '../core/protocol.js';
import { peerScript, startTlcv } from '../core/workers.js';
import type { DataBenchConfig, DataDecodeJob, DataDecodeResult, DataFigures, DataMemoryJob, DataMemoryResult, DataTrainJob, DataTrainResult } from './types.js';
import { photoFolder, PHOTO_HEIGHT, PHOTO_WIDTH } from './photo-files.js';
import { dataMarkdown, dataTargets } from './report.js';

/**
 * The data section's settings: the folders of 1,000 and 4,000 photos for the full
 * run, small ones for a smoke run.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), throughput: [], data: dataBenchConfig('full') };
 */
export function dataBenchConfig(preset: Preset): DataBenchConfig {
  const quick = preset === 'quick';
  return {
    distinct: quick ? 8 : 64,
    throughputPhotos: quick ? 64 : 1000,
    throughputImages: quick ? 32 : 320,
    batch: quick ? 16 : 32,
    size: 224,
    peerWorkers: 2,
    memory: quick
      ? [{ photos: 64, cacheImages: 'off' }, { photos: 256, cacheImages: 'off' }, { photos: 256, cacheImages: 'auto' }]
      : [{ photos: 1000, cacheImages: 'off' }, { photos: 4000, cacheImages: 'off' }, { photos: 4000, cacheImages: 'auto' }],
    memoryEpochs: quick ? 1 : 2,
    // The full run trains one epoch over 992 of the 1,000 photos (31 batches, the first untimed).
    train: quick ? { images: 16, batch: 8 } : { images: 960, batch: 32 },
  };
}

/** The torchvision peer, peers/data_bench.py: its threads set, and libgomp's wait policy left as the caller's. */
function startDataPeer(ctx: BenchContext): WorkerProcess {
  const threads = String(ctx.workerEnv.threads);
  return new WorkerProcess('torchvision-data', ctx.workerEnv.python, ['-u', peerScript('data_bench.py')], { ...process.env, OMP_NUM_THREADS: threads, TLCV_THREADS: threads }, ctx.workerEnv.echo);
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

async function decodeFigures(ctx: BenchContext, d: DataBenchConfig, dir: string): Promise<DataFigures['decode']> {
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

/** End-to-end resnet18 training, repetitions interleaved: tlcv streaming, tlcv on pre-decoded images, torchvision. */
async function trainFigures(ctx: BenchContext, d: DataBenchConfig, dir: string): Promise<DataFigures['train']> {
  const t = d.train!;
  const job: Omit<DataTrainJob, 'mode'> = { kind: 'data-train', dir, images: t.images, batch: t.batch, size: d.size, seed: ctx.cfg.seed, workers: d.peerWorkers, mean: MEAN, std: STD };
  const tlcv = startTlcv(ctx.workerEnv, 'tlcv-data-train');
  const peer = startDataPeer(ctx);
  const samples = { stream: [] as number[], memory: [] as number[], peer: [] as number[] };
  let plan = '';
  try {
    for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
      const order = rep % 2 === 0 ? (['stream', 'memory', 'peer'] as const) : (['peer', 'memory', 'stream'] as const);
      for (const side of order) {
        const w = side === 'peer' ? peer : tlcv;
        const r = await w.request<DataTrainResult>({ ...job, mode: side === 'peer' ? 'stream' : side, seed: ctx.cfg.seed + rep });
        samples[side].push(r.images / r.seconds);
        if (side === 'stream') plan = r.plan;
      }
      ctx.log(`  resnet18 ${d.size} px training: tlcv streaming ${samples.stream.at(-1)!.toFixed(1)} images/s, pre-decoded ${samples.memory.at(-1)!.toFixed(1)}, torchvision ${samples.peer.at(-1)!.toFixed(1)}`);
    }
  } finally {
    await Promise.all([tlcv.close(), peer.close()]);
  }
  const [stream, memory, p] = [figure(samples.stream), figure(samples.memory), figure(samples.peer)];
  return { batch: t.batch, images: t.images, tlcvPlan: plan, stream, memory, peer: p, peerWorkers: d.peerWorkers, vsPeer: stream.median / p.median, vsMemory: stream.median / memory.median };
}

/**
 * Runs the data section into ctx.report.data (decode and training figures stay null if the
 * peer fails, the memory runs still count).
 */
async function run(ctx: BenchContext, d: DataBenchConfig): Promise<void> {
  const out: DataFigures = { photo: `${PHOTO_WIDTH}x${PHOTO_HEIGHT} JPEG (quality 90, every 4th portrait), ${d.distinct} distinct`, size: d.size, batch: d.batch, decode: null, train: null, memory: [] };
  ctx.report.data = out;
  const dir = await photoFolder(d.throughputPhotos, d.distinct, ctx.log);
  let decodeError: unknown = null;
  try {
    out.decode = await decodeFigures(ctx, d, dir);
    if (d.train) out.train = await trainFigures(ctx, d, dir);
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

export const section: BenchSection<'data'> = {
  name: 'data',
  describe: 'photo folders: decoding, training, streaming memory vs torchvision',
  processes: 'own',
  inPresets: false,
  config: dataBenchConfig,
  empty: null,
  run,
  markdown: dataMarkdown,
  targets: dataTargets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
