/**
 * What `tlcv bench` measures and how long it spends: the full run, `--quick` (about two
 * minutes on 2 cores) and whatever a caller builds (tests run a tiny one).
 */
import type { Shape3, SideSetting, Timing } from './jobs.js';
import type { DistributedBenchConfig } from './distributed.js';
import type { ServeBenchConfig } from './serve-jobs.js';
import type { AdaptBenchConfig, FewshotBenchConfig } from './scenario-jobs.js';

export interface ModelRow {
  model: string;
  inputSize: Shape3;
  batch: number;
  numClasses: number;
  timing: Timing;
}

export interface TransferConfig {
  trainImages: number;
  testImages: number;
  /** Side length the 28x28 digits are resized to (3 channels, as ResNet-18 takes). */
  size: number;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  stepSize: number;
  gamma: number;
}

export interface BenchConfig {
  /** CPU threads for every side (TLCV_THREADS / torch.set_num_threads). */
  threads: number;
  /** Interleaved repetitions of each timed figure; the table shows medians. */
  reps: number;
  /**
   * Throughput rows from each worker's CPU time instead of wall time: with one thread, a figure
   * that time-slicing on a shared machine does not inflate (spinning and cache contention still do).
   */
  cpuTime?: boolean;
  seed: number;
  throughput: ModelRow[];
  gemm: { n: number; timing: Timing } | null;
  /** Feature extraction (frozen ResNet-18 body) and fine-tuning of its last block. */
  transfer: (TransferConfig & { fineTune: boolean }) | null;
  /** seed-cnn on the digits at fp32 and at the auto plan. */
  precision: { trainImages: number; testImages: number; epochs: number; batch: number } | null;
  memory: { model: string; inputSize: Shape3; images: number; epochs: number; batch: number } | null;
  tfjs: { batch: number; warmup: number; iters: number } | null;
  /** The optimizer step alone (issue 16); runs with the throughput rows. */
  optimizer?: { model: string; inputSize: Shape3; numClasses: number; timing: Timing } | null;
  /** Achieved GFLOP/s against the GEMM peaks, and a profiled step (issue 16); runs with the throughput rows. */
  roofline?: ModelRow | null;
  /** Data-parallel training against PyTorch DDP (src/bench/distributed.ts). */
  distributed?: DistributedBenchConfig | null;
  /** Photo folders: decode throughput against torchvision and streaming memory (see dataBenchConfig). */
  data?: DataBenchConfig | null;
  /** `tlcv serve` against a PyTorch HTTP peer, and onnxruntime-node against libtorch. */
  serve?: ServeBenchConfig | null;
  /** Training-free heads against feature extraction, in the demo's setting (see scenarioBenchConfig). */
  fewshot?: FewshotBenchConfig | null;
  /** Unsupervised adaptation to shifted digits (see scenarioBenchConfig). */
  adapt?: AdaptBenchConfig | null;
}

export interface DataBenchConfig {
  /** Distinct phone-size JPEGs generated (the folders link to them). */
  distinct: number;
  /** Photos in the folder the throughput runs on, and images timed per repetition. */
  throughputPhotos: number;
  throughputImages: number;
  batch: number;
  /** Input side (RandomResizedCrop size). */
  size: number;
  /** torchvision DataLoader workers. */
  peerWorkers: number;
  /** One fresh process per run: photos in the folder and the image cache. */
  memory: { photos: number; cacheImages: 'auto' | 'on' | 'off' }[];
  memoryEpochs: number;
  /** End-to-end resnet18 training on the throughput folder: images timed per repetition, and the batch. */
  train: { images: number; batch: number } | null;
}

/**
 * The data section's settings: the folders of 1,000 and 4,000 photos for the full
 * run, small ones for a smoke run.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), throughput: [], data: dataBenchConfig('full') };
 */
export function dataBenchConfig(preset: 'quick' | 'full'): DataBenchConfig {
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

/**
 * The few-shot and adaptation sections' settings. `full` is the demo's source (all of
 * Fashion-MNIST's training set, 4 epochs) and five splits; `quick` a short source, one split
 * and fewer epochs, which still shows each method's effect.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), throughput: [], ...scenarioBenchConfig('full') };
 */
export function scenarioBenchConfig(preset: 'quick' | 'full'): { fewshot: FewshotBenchConfig; adapt: AdaptBenchConfig } {
  const quick = preset === 'quick';
  return {
    fewshot: {
      source: quick ? 'fashion-mnist:train@k=1000,seed=1' : 'fashion-mnist:train',
      sourceEpochs: 4,
      target: 'mnist:all',
      k: 10,
      seeds: quick ? [1] : [1, 2, 3, 4, 5],
      featureExtraction: { epochs: 60, batch: 32, lr: 2e-3 },
      center: 'fashion-mnist:train@k=100,seed=1',
      knnK: 5,
    },
    adapt: {
      source: 'mnist:train',
      sourceEpochs: 3,
      sourceTrain: 'mnist:train@k=200,seed=1',
      targetPool: 'mnist:test',
      shifts: quick ? ['rotate:45', 'noise:0.5', 'invert'] : ['rotate:45', 'noise:0.5', 'invert', 'translate:0.25'],
      batchNormModel: 'resnet18',
      dann: { epochs: quick ? 10 : 20 },
      pseudoLabel: { rounds: 3, epochs: 2, threshold: 0 },
    },
  };
}

export const TLCV_SETTINGS: SideSetting[] = [
  { name: 'auto', precision: 'auto', bf16: false, channelsLast: 'auto' },
  { name: 'fp32', precision: 'fp32', bf16: false, channelsLast: false },
];

/** PyTorch's default and the three faster settings a PyTorch user could pick by hand. */
export const PEER_SETTINGS: SideSetting[] = [
  { name: 'fp32', precision: 'fp32', bf16: false, channelsLast: false },
  { name: 'fp32+cl', precision: 'fp32', bf16: false, channelsLast: true },
  { name: 'bf16', precision: 'bf16', bf16: true, channelsLast: false },
  { name: 'bf16+cl', precision: 'bf16', bf16: true, channelsLast: true },
];

const ZOO: [string, Shape3][] = [
  ['seed-cnn', [1, 28, 28]],
  ['resnet18', [3, 32, 32]],
  ['resnet18', [3, 224, 224]],
  ['mobilenet_v2_035', [3, 32, 32]],
  ['mobilenet_v2_035', [3, 224, 224]],
];

function serveConfig(quick: boolean): ServeBenchConfig {
  const engineModels: [string, Shape3][] = [
    ['seed-cnn', [1, 28, 28]],
    ['resnet18', [3, 224, 224]],
    ['mobilenet_v2_035', [3, 224, 224]],
    ...(quick ? [] : ([['resnet50', [3, 224, 224]], ['mobilenet_v2', [3, 224, 224]]] as [string, Shape3][])),
  ];
  return {
    models: [
      { model: 'resnet18', inputSize: [3, 224, 224] },
      { model: 'seed-cnn', inputSize: [1, 28, 28] },
    ],
    clients: [1, 8, 64],
    warmupSeconds: quick ? 1 : 2,
    seconds: quick ? 3 : 6,
    photos: 16,
    batching: { maxBatch: 16, maxWaitMs: 5 },
    engines: {
      models: engineModels.map(([model, inputSize]) => ({ model, inputSize })),
      batches: [1, 32],
      timing: quick ? { warmup: 1, iters: 2, minSeconds: 0.5, maxIters: 100 } : { warmup: 2, iters: 3, minSeconds: 2, maxIters: 500 },
    },
  };
}

export function presetConfig(preset: 'quick' | 'full', threads: number): BenchConfig {
  const quick = preset === 'quick';
  const rows: ModelRow[] = ZOO.map(([model, inputSize]) => {
    const large = inputSize[1] >= 128;
    // --quick: a 224 px step at batch 64 takes seconds per setting, so it runs batch 16 there.
    const batch = quick && large ? 16 : 64;
    const timing: Timing = quick ? { warmup: large ? 1 : 2, iters: 1, minSeconds: 0.4, maxIters: 50 } : { warmup: 2, iters: 2, minSeconds: 2, maxIters: 200 };
    return { model, inputSize, batch, numClasses: 10, timing };
  });
  return {
    threads,
    reps: quick ? 1 : 3,
    seed: 0,
    throughput: rows,
    gemm: { n: 2048, timing: quick ? { warmup: 1, iters: 2, minSeconds: 0.3, maxIters: 20 } : { warmup: 1, iters: 3, minSeconds: 1, maxIters: 50 } },
    transfer: {
      trainImages: quick ? 1500 : 6000,
      testImages: quick ? 1500 : 4000,
      size: 32,
      epochs: 10,
      batch: 64,
      lr: 0.01,
      momentum: 0.9,
      stepSize: 7,
      gamma: 0.1,
      fineTune: true,
    },
    // Two runs that start alike drift apart; the shorter the training, the noisier the gap.
    precision: { trainImages: quick ? 3000 : 6000, testImages: quick ? 2000 : 4000, epochs: quick ? 2 : 3, batch: 64 },
    memory: { model: 'resnet18', inputSize: [3, 32, 32], images: quick ? 128 : 512, epochs: 20, batch: 64 },
    // Pure-JS TF.js trains this CNN at well under one image per second here: a few images only.
    tfjs: quick ? { batch: 1, warmup: 0, iters: 1 } : { batch: 2, warmup: 1, iters: 2 },
    serve: serveConfig(quick),
    optimizer: {
      model: 'resnet18',
      inputSize: [3, 224, 224],
      numClasses: 1000,
      timing: quick ? { warmup: 2, iters: 5, minSeconds: 0.5, maxIters: 50 } : { warmup: 3, iters: 10, minSeconds: 2, maxIters: 200 },
    },
    roofline: {
      model: 'resnet18',
      inputSize: [3, 224, 224],
      batch: quick ? 16 : 64,
      numClasses: 10,
      timing: quick ? { warmup: 1, iters: 1, minSeconds: 0, maxIters: 1 } : { warmup: 2, iters: 3, minSeconds: 3, maxIters: 20 },
    },
  };
}
