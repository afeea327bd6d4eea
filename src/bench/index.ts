/** `tlcv bench`: tlcv against the PyTorch peer, side by side, as a library call. */
export { runBench, type BenchOptions } from './harness.js';
export { presetConfig, dataBenchConfig, scenarioBenchConfig, TLCV_SETTINGS, PEER_SETTINGS, type BenchConfig, type DataBenchConfig, type ModelRow, type TransferConfig } from './config.js';
export { photoFolder, photoCacheDir } from './photo-files.js';
export { renderMarkdown, writeReportJson } from './report.js';
export { checkTargets } from './targets.js';
export { median, figure, throughputRatios, rssGrowth, type BenchReport, type Figure, type ThroughputRow, type TransferFigures, type TargetCheck, type DataFigures } from './results.js';
export { distributedBenchConfig, runDistributedBench, type DistributedBenchConfig } from './distributed.js';
