/**
 * `--unknown auto` at the end of a run: the trained model's logits on the validation split
 * (fp32, eval mode, as predict and serve run it), and `calibrate` on them (src/metrics/
 * calibration.ts): the temperature, the ECE before and after, and the unknown threshold that the
 * model folder then keeps.
 */
import { TlcvError } from '../errors.js';
import { forEachBatch, type Dataset } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import { calibrate, type CalibrationRecord } from '../metrics/index.js';
import { inferenceMode, tidy } from '../tensor/index.js';
import { loaderFor, resolveTrainOptions, type Callback, type LearnerView } from '../train/index.js';

/** What a run is asked to do about unknown inputs: nothing (off), or calibrate on its validation split. */
export interface UnknownRequest {
  /** Fraction of known images the threshold may reject (default 0.05). */
  targetRejection?: number;
}

/**
 * The logits [N, C] (row-major) and labels of a dataset, read in order in batches of 256.
 *
 * @example
 * const { logits, labels } = await datasetLogits(model, val);
 */
export async function datasetLogits(model: ClassifierModel, ds: Dataset, o: { device?: string } = {}): Promise<{ logits: Float32Array; labels: Int32Array }> {
  const loader = loaderFor(ds, model, resolveTrainOptions({ ...(o.device === undefined ? {} : { device: o.device }) }), { train: false, batchSize: 256 });
  const logits: Float32Array[] = [];
  const labels: Int32Array[] = [];
  const training = model.training;
  model.eval();
  loader.setEpoch(0);
  try {
    await forEachBatch(loader, (b) => {
      const [z, y] = inferenceMode(() => tidy(() => [model.forward(b.x).float().toTypedArray() as Float32Array, Int32Array.from(b.y.toFlatArray())] as const));
      logits.push(z);
      labels.push(y);
      b.x.dispose();
      b.y.dispose();
    });
  } finally {
    if (training) model.train();
  }
  const join = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, (at += p.length) - p.length);
    return out;
  };
  return { logits: join(logits, (n) => new Float32Array(n)), labels: join(labels, (n) => new Int32Array(n)) };
}

/**
 * Fits the calibration record of a trained model on its validation data; a run without
 * validation data cannot (the threshold is chosen on images the model did not learn from).
 *
 * @example
 * const record = await calibrateOnValidation(model, val, { targetRejection: 0.05 });
 */
export async function calibrateOnValidation(model: ClassifierModel, val: Dataset | null, o: UnknownRequest & { device?: string } = {}): Promise<CalibrationRecord> {
  if (val === null) throw new TlcvError('ARGUMENT', '--unknown auto fits its temperature and threshold on the validation split: give --val a fraction or a data spec, not none');
  const { logits, labels } = await datasetLogits(model, val, o);
  return calibrate({ logits, labels, numClasses: model.numClasses }, o.targetRejection === undefined ? {} : { targetRejection: o.targetRejection });
}

/**
 * One line on a calibration record: what the CLI prints after a run with `--unknown auto`.
 *
 * @example
 * describeCalibration(record); // "calibration on 500 validation images: temperature 1.612, ECE 4.10% -> 1.02%; ..."
 */
export function describeCalibration(c: CalibrationRecord): string {
  const pc = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return `calibration on ${c.images} validation images: temperature ${c.temperature.toFixed(3)}, ECE ${pc(c.eceBefore)} -> ${pc(c.eceAfter)}; unknown below ${c.threshold.toFixed(4)} (answers unknown for ${pc(c.validationRejection)} of validation, target ${pc(c.targetRejection)})`;
}

/** The report's summary lines for a calibration record. */
export function calibrationInfo(c: CalibrationRecord | null): Record<string, string | number> {
  if (c === null) return {};
  const pc = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return {
    'temperature (fitted on validation)': Number(c.temperature.toFixed(4)),
    'ECE before / after the temperature': `${pc(c.eceBefore)} / ${pc(c.eceAfter)}`,
    'unknown below (max probability)': Number(c.threshold.toFixed(4)),
    'unknown on validation (target)': `${pc(c.validationRejection)} (${pc(c.targetRejection)})`,
  };
}

/**
 * Fits the calibration at the end of a fit, after KeepBest restored the best weights and before
 * the report (order 98 < 100), which then shows the ECE before and after.
 */
export class Calibrate implements Callback {
  readonly order = 98;
  readonly name = 'calibrate';
  record: CalibrationRecord | null = null;

  constructor(
    readonly val: Dataset | null,
    readonly o: UnknownRequest & { device?: string },
  ) {}

  async afterFit(learn: LearnerView): Promise<void> {
    // fineTune's head-only stage is part of the run: the model it leaves is not the one kept.
    if (learn.stage !== undefined) return;
    this.record = await calibrateOnValidation(learn.model, this.val, this.o);
  }
}
