/** `tlcv export`: a loaded model to an ONNX file or to the offline web page. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import type { PreprocessConfig } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import { headRecord } from '../transfer/heads/head-record.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { exportMetadata, exportOnnx, type OnnxExportOptions } from './onnx-export.js';
import { checkImageInput } from './preprocess.js';
import { EARLIER_PAGE_FILES, webBundle, writeWebFolder, type WebFile } from './web-bundle.js';

export const EXPORT_FORMATS = ['onnx', 'web'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an export needs of a model: the module, its classes and its preprocessing record. */
export interface ExportSource {
  module: ClassifierModel;
  classes: string[];
  preprocess: PreprocessConfig;
  /** Names the model in messages (a folder, a file). */
  where: string;
  /** A calibrated folder's temperature: the graph divides its logits by it before the softmax. */
  temperature?: number;
  /** The max probability below which the image is unknown (null: none), written to metadata_props. */
  unknownThreshold?: number | null;
}

export interface ExportRequest {
  format: ExportFormat;
  /** The .onnx file, or the web page's folder. */
  out: string;
  /** Replace what `out` holds already (default false: refuse, as training refuses an --out that holds a model). */
  overwrite?: boolean;
}

/**
 * Why a model has no ONNX form, before walking it (null: none known; the walk may still find an
 * unsupported module).
 *
 * @example
 * onnxRefusal(model); // 'its knn head has no ONNX form in tlcv' after a knn transfer
 */
export function onnxRefusal(module: ClassifierModel): string | null {
  // Votes of the k nearest stored features (top-k, scatter-add) are not among the emitted ONNX ops.
  return headRecord(module)?.kind === 'knn' ? 'its knn head has no ONNX form in tlcv' : null;
}

function optionsOf(s: ExportSource): OnnxExportOptions {
  checkImageInput(s.module.config.name, s.module.config.inputSize);
  const refusal = onnxRefusal(s.module);
  if (refusal !== null) {
    throw new TlcvError('MODEL', `cannot export ${s.where}: ${refusal}; serve it with \`tlcv serve\`, or fit an exportable head with \`tlcv transfer --mode ncm\` or \`--mode probe\``);
  }
  return { classes: s.classes, preprocessing: s.preprocess, ...(s.temperature === undefined ? {} : { temperature: s.temperature }), ...(s.unknownThreshold == null ? {} : { unknownThreshold: s.unknownThreshold }) };
}

/**
 * The ONNX bytes of a model (graph, weights, and its classes and preprocessing as metadata).
 *
 * @example
 * const bytes = onnxOf({ module, classes, preprocess, where: 'runs/digits' });
 */
export function onnxOf(s: ExportSource): Uint8Array {
  return exportOnnx(s.module, optionsOf(s));
}

/**
 * The offline web page's files for a model: index.html (the page, onnxruntime-web and, up to a
 * size, the model inside it), model.onnx, metadata.json and labels.txt (what `tlcv serve`
 * serves at / and `export --format web` writes).
 */
export function webFilesOf(s: ExportSource): WebFile[] {
  const options = optionsOf(s);
  return webBundle(exportOnnx(s.module, options), exportMetadata(s.module, options));
}

/**
 * Exports a model as `format` to `out` (a file for onnx, a folder for web); returns the ONNX
 * file's size in bytes. An `out` that already holds something is refused unless `overwrite`.
 *
 * @example
 * exportModel(source, { format: 'onnx', out: 'digits.onnx' });
 * exportModel(source, { format: 'web', out: 'digits-web' });
 */
export function exportModel(s: ExportSource, o: ExportRequest): { onnxBytes: number } {
  if (!EXPORT_FORMATS.includes(o.format)) throw new TlcvError('ARGUMENT', `--format: expected one of ${EXPORT_FORMATS.join('|')}, got ${JSON.stringify(o.format)}`);
  const isDir = existsSync(o.out) && statSync(o.out).isDirectory();
  if (o.format === 'onnx' && isDir) throw new TlcvError('ARGUMENT', `--out ${o.out} is a folder: give the .onnx file's name, e.g. ${join(o.out, 'model.onnx')}`);
  const options = optionsOf(s);
  const bytes = exportOnnx(s.module, options);
  if (o.format === 'onnx') {
    if (existsSync(o.out) && o.overwrite !== true) throw new TlcvError('ARGUMENT', `--out ${o.out} already exists: pass --overwrite to replace it, or choose another file`);
    writeFileAtomic(o.out, bytes);
  } else {
    const files = webBundle(bytes, exportMetadata(s.module, options));
    // A folder of other files is refused by writeWebFolder, --overwrite or not; an earlier page needs --overwrite.
    const names = new Set([...files.map((f) => f.name), ...EARLIER_PAGE_FILES]);
    const earlier = isDir && readdirSync(o.out).some((n) => names.has(n));
    if (earlier && o.overwrite !== true && readdirSync(o.out).every((n) => names.has(n) || n.startsWith('.'))) {
      throw new TlcvError('ARGUMENT', `--out ${o.out} already holds an exported page: pass --overwrite to replace it, or choose another folder`);
    }
    writeWebFolder(o.out, files);
  }
  return { onnxBytes: bytes.length };
}
