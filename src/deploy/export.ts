/** `tlcv export`: a model folder to an ONNX file or to the offline web page. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { ImageClassifier } from './classifier.js';
import { exportMetadata, exportOnnx } from './onnx-export.js';
import { webBundle, writeWebFolder } from './web-bundle.js';

export const EXPORT_FORMATS = ['onnx', 'web'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Exports the model folder `dir` as `format` to `out` (a file for onnx, a folder for web) and
 * returns the ONNX file's size in bytes.
 *
 * @example
 * exportModelFolder('runs/digits', { format: 'onnx', out: 'digits.onnx' });
 * exportModelFolder('runs/digits', { format: 'web', out: 'digits-web' });
 */
export function exportModelFolder(dir: string, o: { format: ExportFormat; out: string }): { onnxBytes: number } {
  if (!EXPORT_FORMATS.includes(o.format)) throw new TlcvError('ARGUMENT', `--format: expected one of ${EXPORT_FORMATS.join('|')}, got ${JSON.stringify(o.format)}`);
  if (o.format === 'onnx' && existsSync(o.out) && statSync(o.out).isDirectory()) {
    throw new TlcvError('ARGUMENT', `--out ${o.out} is a folder: give the .onnx file's name, e.g. ${join(o.out, 'model.onnx')}`);
  }
  const clf = ImageClassifier.load(dir);
  try {
    if (clf.config.head?.kind === 'knn') {
      // Votes of the k nearest stored features (top-k, scatter-add) are not among the emitted ONNX ops.
      throw new TlcvError('MODEL', `cannot export ${dir}: its knn head has no ONNX form in tlcv; serve it with \`tlcv serve\`, or fit an exportable head with \`tlcv transfer --mode ncm\` or \`--mode probe\``);
    }
    const options = { classes: clf.classes, preprocessing: clf.preprocessing };
    const bytes = exportOnnx(clf.model, options);
    if (o.format === 'onnx') writeFileAtomic(o.out, bytes);
    else writeWebFolder(o.out, webBundle(bytes, exportMetadata(clf.model, options)));
    return { onnxBytes: bytes.length };
  } finally {
    clf.dispose();
  }
}
