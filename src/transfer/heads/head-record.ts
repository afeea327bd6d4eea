/**
 * The `head` record of a model folder's config.json: which module the classifier is when it is
 * not the one the architecture builds, so that loading rebuilds it before the weights go in.
 * A kNN head's support set and a float32 head's arithmetic are otherwise lost on reload (the
 * weights alone would load into a plain Linear, or not at all). Folders with the architecture's
 * own classifier carry no record and load as they always did.
 */
import { TlcvError } from '../../errors.js';
import { Linear } from '../../nn/index.js';
import { Float32Linear } from '../../nn/float32-linear.js';
import type { Tensor } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { installHeadModule } from './features.js';
import { KnnHead } from './knn.js';

/** `float32-linear`: a Linear computing in float32 under autocast (ncm, probe); `knn`: a cosine k-NN head. */
export type HeadRecord = { kind: 'float32-linear' } | { kind: 'knn'; k: number };

export const HEAD_KINDS = ['float32-linear', 'knn'] as const;

/**
 * The record for the model's classifier, or undefined when it is the architecture's own kind.
 *
 * @example
 * headRecord(model); // { kind: 'knn', k: 5 } after fitFewShotHead(model, { mode: 'knn', ... })
 */
export function headRecord(model: ClassifierModel): HeadRecord | undefined {
  const head = model.getSubmodule(model.config.classifier);
  if (head instanceof KnnHead) return { kind: 'knn', k: head.k };
  if (head instanceof Float32Linear) return { kind: 'float32-linear' };
  return undefined;
}

/** Checks a record read from a file; errors name the file and the field. */
export function checkHeadRecord(raw: unknown, path: string): HeadRecord | undefined {
  if (raw === undefined) return undefined;
  const r = raw as { kind?: unknown; k?: unknown };
  const kind = typeof r === 'object' && r !== null ? r.kind : undefined;
  if (!HEAD_KINDS.includes(kind as (typeof HEAD_KINDS)[number])) {
    throw new TlcvError('FILE', `${path}: field "head.kind" must be one of ${HEAD_KINDS.join(', ')}, found ${JSON.stringify(kind ?? raw)?.slice(0, 80)}`);
  }
  if (kind === 'knn') {
    if (!(Number.isInteger(r.k) && (r.k as number) >= 1)) throw new TlcvError('FILE', `${path}: field "head.k" must be a positive integer, found ${JSON.stringify(r.k)}`);
    return { kind, k: r.k as number };
  }
  return { kind: 'float32-linear' };
}

/**
 * Puts the recorded kind of classifier in place, built from the folder's weights (`state`, with
 * full names), so that a strict load of the same weights then fits it exactly.
 *
 * @example
 * restoreHead(model, config.head, readSafetensors('runs/knn/model.safetensors'));
 */
export function restoreHead(model: ClassifierModel, record: HeadRecord | undefined, state: Map<string, Tensor>): void {
  if (record === undefined) return;
  const current = model.getSubmodule(model.config.classifier);
  if (record.kind === 'float32-linear') {
    if (!(current instanceof Linear)) throw new TlcvError('FILE', `head "float32-linear" needs a Linear classifier, but ${model.config.name}'s "${model.config.classifier}" is a ${current.constructor.name}`);
    installHeadModule(model, new Float32Linear(current.inFeatures, model.numClasses), model.numClasses);
    return;
  }
  const prefix = `${model.config.classifier}.`;
  const own = new Map([...state].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const head = KnnHead.fromState(own);
  if (head.k !== record.k || head.numClasses !== model.numClasses) {
    const found = `k ${head.k}, ${head.numClasses} classes`;
    head.dispose();
    throw new TlcvError('FILE', `the knn head's weights (${found}) disagree with config.json (k ${record.k}, ${model.numClasses} classes)`);
  }
  installHeadModule(model, head, model.numClasses);
}
