/** Pieces several commands share: threads, output folders, class alignment. */
import { existsSync, readdirSync } from 'node:fs';
import { TlcvError } from '../errors.js';
import { checkpointPath } from '../train/checkpoint.js';
import { setNumThreads } from '../tensor/index.js';
import type { ImageDataset } from '../data/index.js';
import type { Parsed } from './args.js';

export function applyThreads(p: Parsed): void {
  if (typeof p.flags.threads === 'number') setNumThreads(p.flags.threads);
}

/** Where `transfer --head-epochs` keeps its first (head-only) stage, inside --out. */
export const HEAD_STAGE_DIR = 'head-stage';

/** Refuses to train into a folder that holds something else, unless resuming; --resume needs a checkpoint, found before any data is read. */
export function checkOutDir(out: string, resume: boolean): void {
  if (resume && !existsSync(checkpointPath(out))) throw new TlcvError('FILE', `--resume: no checkpoint at ${checkpointPath(out)}`);
  if (resume || !existsSync(out)) return;
  const entries = readdirSync(out);
  const ours = ['model.safetensors', 'config.json', 'metrics.jsonl', 'report.html', 'checkpoint.safetensors', HEAD_STAGE_DIR];
  const foreign = entries.filter((e) => !ours.includes(e) && !e.startsWith('.'));
  if (foreign.length > 0) {
    throw new TlcvError('ARGUMENT', `--out ${out} already holds other files (${foreign.slice(0, 3).join(', ')}): choose an empty or new folder`);
  }
}

/**
 * Maps a dataset's labels onto a model's classes by name, so a folder whose classes are
 * a subset (or another order) of the model's is scored correctly.
 */
export function alignToModelClasses(ds: ImageDataset, modelClasses: string[]): ImageDataset {
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
