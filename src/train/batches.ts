/**
 * Training data as a dataset (the Learner builds its loaders: in memory, or a photo folder
 * streaming from disk) or as ready batches.
 */
import type { BatchSource, Dataset } from '../data/index.js';

export { forEachBatch, type BatchSource } from '../data/index.js';

export type DataInput = Dataset | BatchSource;

export function isBatchSource(d: DataInput): d is BatchSource {
  return typeof (d as BatchSource).setEpoch === 'function';
}
