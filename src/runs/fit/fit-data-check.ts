/**
 * Issue 23's two steps inside `fit`: a cheap look at the data before anything trains (the
 * doctor's quick mode: no label-error pass, at most 2,000 images), and temperature scaling plus
 * an "unknown" threshold fitted on the kept model's validation split after the choice.
 */
import { TlcvError } from '../../errors.js';
import type { Dataset } from '../../data/index.js';
import { calibrate, type CalibrationRecord } from '../../metrics/index.js';
import { CHEAP_DOCTOR, diagnose, formatDoctorReport } from '../../doctor/index.js';
import type { Model } from '../model.js';
import { describeCalibration } from '../calibration-run.js';

/**
 * The doctor's quick look at a photo folder, as lines of fit's log (findings warn, never stop
 * the run). Named datasets and specs with modifiers are not folders the doctor reads: skipped.
 *
 * @example
 * await checkData('folder:photos', console.error);
 */
export async function checkData(data: string, log: (line: string) => void): Promise<void> {
  if (!data.startsWith('folder:') || data.includes('@')) return;
  try {
    const report = await diagnose(data, CHEAP_DOCTOR);
    for (const line of formatDoctorReport(report).split('\n')) if (line.trim() !== '') log(`fit: data check: ${line}`);
  } catch (e) {
    // The data check must never be why fit fails: training reports a real data error itself.
    if (!(e instanceof TlcvError)) throw e;
    log(`fit: data check skipped: ${e.message}`);
  }
}

/**
 * Fits the temperature and the unknown threshold (5% of known images rejected) on the kept
 * model's validation split and gives them to the model; null, with the reason logged, when the
 * time left does not cover a pass over it. fit calls it before any refit on every image, so that
 * the split is one the model did not train on.
 *
 * @example
 * outcome.calibration = await calibrateKept(model, { fits: true, needs: 1, left: 9 }, () => validationData(model, data, v), validationLogits, log);
 */
export async function calibrateKept(
  model: Model,
  when: { fits: boolean; needs: number; left: number },
  val: () => Promise<Dataset>,
  logitsOf: (m: Model, d: Dataset) => Promise<{ logits: Float32Array; labels: Int32Array; classes: number }>,
  log: (line: string) => void,
): Promise<CalibrationRecord | null> {
  if (!when.fits) {
    log(`fit: not calibrated: a pass over the validation split would take about ${when.needs.toFixed(1)}s, ${when.left.toFixed(1)}s left`);
    return null;
  }
  const { logits, labels, classes } = await logitsOf(model, await val());
  const record = calibrate({ logits, labels, numClasses: classes });
  model.calibration = record;
  log(`fit: ${describeCalibration(record)}`);
  return record;
}
