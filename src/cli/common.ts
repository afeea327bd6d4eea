/** Pieces several commands share: threads, class alignment, percentages. */
import { TlcvError } from '../errors.js';
import { setNumThreads } from '../tensor/index.js';
import type { Dataset } from '../data/index.js';

export function applyThreads(threads: number | undefined): void {
  if (threads !== undefined) setNumThreads(threads);
}

/**
 * Maps a dataset's labels onto a model's classes by name, so a folder whose classes are
 * a subset (or another order) of the model's is scored correctly.
 */
export function alignToModelClasses<D extends Dataset>(ds: D, modelClasses: string[]): D {
  if (ds.classes.length === modelClasses.length && ds.classes.every((c, i) => c === modelClasses[i])) return ds;
  const index = new Map(modelClasses.map((c, i) => [c, i]));
  const unknown = ds.classes.filter((c) => !index.has(c));
  if (unknown.length === 0) {
    const map = ds.classes.map((c) => index.get(c)!);
    return { ...ds, labels: Int32Array.from(ds.labels, (l) => map[l]!), classes: [...modelClasses] };
  }
  if (ds.classes.length === modelClasses.length) return { ...ds, classes: [...modelClasses] };
  const few = (list: string[]): string => `${list.slice(0, 5).join(', ')}${list.length > 5 ? `, ... (${list.length})` : ''}`;
  throw new TlcvError('DATA', `--data ${ds.name}: class${unknown.length > 1 ? 'es' : ''} ${few(unknown)} not among the model's ${modelClasses.length} classes (${few(modelClasses)})`);
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}
