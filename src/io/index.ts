/**
 * The disk: weight files (safetensors read and write, PyTorch .pth read with no pickled code
 * run), atomic writes, the run folder's file names, the cache root and verified downloads.
 */
export {
  readSafetensors,
  parseSafetensors,
  readSafetensorsMetadata,
  readSafetensorsHeader,
  parseSafetensorsHeader,
  writeSafetensors,
  serializeSafetensors,
  safetensorsChunks,
  MAX_HEADER_BYTES,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './safetensors.js';
export { readPth } from './pth.js';
export { writeFileAtomic, writeFilesAtomic, writeFileAtomicAsync, removeStaleTempFiles, type FileData, type AtomicFile, type AtomicOptions, type FileOps } from './atomic-write.js';
export { RUN_FILES, runPath, checkRunFolder, clearRunFolder, finishRunFolder, type RunFile, type RunFolderIntent } from './run-folder.js';
export { cacheRoot, cacheDir, type CacheKind } from './cache.js';
export { downloadVerified, sha256Matches, DownloadError, type DownloadRequest } from './download.js';
