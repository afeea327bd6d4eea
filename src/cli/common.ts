/** Pieces several commands share: threads, percentages. */
import { TlcvError } from '../errors.js';
import { setNumThreads } from '../tensor/index.js';

export function applyThreads(threads: number | undefined): void {
  if (threads !== undefined) setNumThreads(threads);
}

export function pct(v: number): string {
  return `${(v * 100).toFixed(2)}%`;
}

/**
 * Old spellings keep working for one release, with one line on stderr saying the new one.
 *
 * @example
 * renamedFlag('transfer', '--from DIR', '--model DIR');
 */
export function renamedFlag(command: string, old: string, now: string): void {
  console.error(`tlcv ${command}: note: ${old} is now ${now} (the old spelling works until the next release)`);
}

/**
 * The model a command starts from and the architecture of a bare weights file, from the flags
 * as they are spelled now (--model, --arch) or were (--from, with --model naming the
 * architecture).
 *
 * @example
 * const { model, arch } = sourceFlags('transfer', f);
 */
export function sourceFlags(command: string, f: { model?: string | undefined; from?: string | undefined; arch?: string | undefined }): { model: string; arch: string | undefined } {
  if (f.from === undefined) {
    if (f.model === undefined) throw new TlcvError('ARGUMENT', `--model is required: a tlcv model folder, a weights file (with --arch NAME), or a zoo model name (see tlcv ${command} --help)`);
    return { model: f.model, arch: f.arch };
  }
  renamedFlag(command, '--from', '--model');
  if (f.model !== undefined) {
    if (f.arch !== undefined) throw new TlcvError('ARGUMENT', `--from ${f.from} --model ${f.model} --arch ${f.arch}: give the model with --model and its architecture with --arch`);
    renamedFlag(command, '--model NAME (the architecture of a weights file)', '--arch NAME');
  }
  return { model: f.from, arch: f.arch ?? f.model };
}
