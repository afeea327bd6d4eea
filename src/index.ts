/**
 * tlcv: transfer learning for computer vision in Node.js, on libtorch.
 *
 * @example
 * import { load } from 'tlcv';
 * const m = await load('seed-cnn', { pretrained: false });
 * await m.fit('fashion-mnist:train@k=300', { options: { epochs: 2 } });
 * console.log((await m.evaluate('fashion-mnist:test')).accuracy);
 */
export * from './tensor/index.js';
export { TlcvError, TorchError, argumentError, isUserError, type ErrorCode } from './errors.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './distributed/index.js';
export { Augmenter, parseAugment, AUGMENT_PRESETS, type AugmentOptions } from './transforms/index.js';
export * from './metrics/index.js';
export { renderReport, writeReport, encodePng, type ReportData } from './report/index.js';
export {
  readSafetensors,
  writeSafetensors,
  parseSafetensors,
  readPth,
  writeFileAtomic,
  writeFilesAtomic,
  writeFileAtomicAsync,
  RUN_FILES,
  runPath,
  checkRunFolder,
  cacheDir,
  downloadVerified as downloadFile,
  DownloadError,
  type AtomicFile,
  type RunFile,
  type CacheKind,
  type DownloadRequest,
} from './io/index.js';
export { applyStrategy, parseUnfreeze, type TransferMode, type StrategyPlan } from './transfer/strategy.js';
export * from './execution/index.js';
export * from './train/index.js';
export { runDemo, type DemoOptions, type DemoResult } from './demo/demo.js';
export * from './transfer/heads/index.js';
export * from './transfer/adapt/index.js';
export { LBFGS, type LBFGSOptions, type LossClosure } from './optim/lbfgs.js';
export { GradientReversal, gradientReversal } from './nn/gradient-reversal.js';
export { BatchNorm1d } from './nn/batchnorm1d.js';
export { Float32Linear, withoutAutocast } from './nn/float32-linear.js';
export * from './deploy/index.js';
export * from './doctor/index.js';
export * from './runs/index.js';
