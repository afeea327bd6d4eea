/**
 * fit's validation split, for what comes after the choice: the kept model's validation images
 * (validationData) and its logits on them (validationLogits). Issue 23's temperature scaling and
 * "unknown" threshold fit on these; fit itself decides test-time augmentation on them.
 */
import { isFileDataset, type Dataset, type ImageDataset } from '../../data/index.js';
import { TlcvError } from '../../errors.js';
import type { Model } from '../model.js';
import { alignToModelClasses, loadForModel, splitValidation } from '../data-prep.js';

/** Where fit's validation images come from: `val` is the run's --val (a fraction or `fold:0/K`) with `seed`. */
export interface FitValidation {
  kind: 'holdout' | 'kfold';
  /** The split of the kept model (fold 0 with k-fold). */
  val: string;
  seed: number;
  folds: number;
}

/**
 * The validation images of a model fit made (or of any model trained with `--val v.val` and
 * `--seed v.seed` on `data`), read with the model's own record as evaluate reads them: the
 * split is drawn from the labels alone, so it is the one the run held out. What issue 23's
 * calibration and "unknown" threshold fit on (unless fit trained the kept model again on every
 * image: FitOutcome.refit, when the split is inside its training data).
 *
 * @example
 * const val = await validationData(r.model!, 'folder:photos', r.validation);
 * const { accuracy } = await r.model!.evaluate(val);
 */
export async function validationData(model: Model, data: string, v: Pick<FitValidation, 'val' | 'seed'>): Promise<Dataset> {
  const module = model.module;
  const all = alignToModelClasses(await loadForModel(data, module, model.preprocess === null ? {} : { preprocess: model.preprocess }), model.classes);
  const { val } = await splitValidation(all, v.val, v.seed, () => Promise.reject(new Error('fit: the validation is a split of the data')));
  return val!;
}

/**
 * The model's logits on `val`, one row of `classes` per image, as log-probabilities (softmax
 * gives back the same probabilities, so temperature scaling fits on them as on raw logits),
 * through the same path as predict (test-time augmentation included when the model uses it).
 *
 * @example
 * const { logits, labels } = await validationLogits(m, await validationData(m, 'folder:photos', r.validation));
 */
export async function validationLogits(model: Model, val: Dataset, o: { batch?: number } = {}): Promise<{ logits: Float32Array; labels: Int32Array; classes: number }> {
  const k = model.classes.length;
  const [c, h, w] = model.preprocess?.inputSize ?? model.module.config.inputSize;
  const size = c * h * w;
  const pixels = async (i: number): Promise<Uint8Array> => {
    if (isFileDataset(val)) return model.pixels(val.files.paths[val.fileIds[i]!]!);
    const mem = val as ImageDataset;
    if (mem.channels * mem.height * mem.width !== size) throw new TlcvError('DATA', `validationLogits: ${val.name} holds ${mem.channels}x${mem.height}x${mem.width} images, the model takes ${c}x${h}x${w}`);
    return mem.images.subarray(i * size, (i + 1) * size);
  };
  const logits = new Float32Array(val.n * k);
  const batch = o.batch ?? 32;
  for (let at = 0; at < val.n; at += batch) {
    const px = await Promise.all(Array.from({ length: Math.min(batch, val.n - at) }, (_, j) => pixels(at + j)));
    model.classify(px).forEach((p, j) => p.forEach((v, cls) => (logits[(at + j) * k + cls] = Math.log(Math.max(v, 1e-30)))));
  }
  return { logits, labels: Int32Array.from(val.labels), classes: k };
}
