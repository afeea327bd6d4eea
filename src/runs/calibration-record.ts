/**
 * The `calibration` record of a model folder's config.json (see CalibrationRecord): checked on
 * read, as every field of the folder is, so that a hand-edited file fails with the field named
 * rather than answering "unknown" at random.
 */
import { TlcvError } from '../errors.js';
import type { CalibrationRecord } from '../metrics/index.js';

const NUMBERS = ['eceBefore', 'eceAfter', 'nllBefore', 'nllAfter', 'validationRejection'] as const;

/**
 * The record read from `path` (undefined when absent), or a FILE error naming the field.
 *
 * @example
 * checkCalibrationRecord(JSON.parse(text).calibration, 'runs/digits/config.json', 'seed-cnn');
 */
export function checkCalibrationRecord(raw: unknown, path: string, model: string): CalibrationRecord | undefined {
  if (raw === undefined) return undefined;
  const bad = (name: string, expected: string, found: unknown): TlcvError => new TlcvError('FILE', `${path}: field "calibration.${name}" must be ${expected}, found ${JSON.stringify(found)?.slice(0, 80)}`);
  if (typeof raw !== 'object' || raw === null) throw bad('(root)', 'an object', raw);
  const r = raw as Record<string, unknown>;
  if (!(typeof r.temperature === 'number' && r.temperature > 0 && Number.isFinite(r.temperature))) throw bad('temperature', 'a positive number', r.temperature);
  // The deployed paths (predict, serve, the ONNX graph, the web page) compute max softmax; the
  // ncm distance needs the features, which they do not output (see docs/unknown.md).
  if (r.score !== 'max-softmax') throw bad('score', `"max-softmax" (the score ${model}'s predict, serve and export compute)`, r.score);
  if (!(typeof r.threshold === 'number' && r.threshold >= 0 && r.threshold <= 1)) throw bad('threshold', 'a probability in [0, 1]', r.threshold);
  if (!(typeof r.targetRejection === 'number' && r.targetRejection >= 0 && r.targetRejection < 1)) throw bad('targetRejection', 'a fraction in [0, 1)', r.targetRejection);
  if (!(Number.isInteger(r.images) && (r.images as number) > 0)) throw bad('images', 'a positive integer', r.images);
  for (const k of NUMBERS) if (!(typeof r[k] === 'number' && Number.isFinite(r[k]))) throw bad(k, 'a number', r[k]);
  return raw as CalibrationRecord;
}
