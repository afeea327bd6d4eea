/** Training data as a dataset (the Learner builds its loaders) or as ready batches. */
import type { BatchSource, ImageDataset } from '../data/index.js';

export { forEachBatch, type BatchSource } from '../data/index.js';

export type DataInput = ImageDataset | BatchSource;

export function isBatchSource(d: DataInput): d is BatchSource {
  return typeof (d as BatchSource).setEpoch === 'function';
}
