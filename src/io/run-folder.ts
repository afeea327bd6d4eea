/**
 * The files of a run (model) folder, named in one place, and the rule that protects them: a
 * folder that already holds a run is not trained into again unless the user says `--resume`
 * (continue it) or `--overwrite` (replace it), and a folder holding other files is never used.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';

/** Every file tlcv writes in a run folder. */
export const RUN_FILES = {
  /** Weights with torchvision names. */
  weights: 'model.safetensors',
  /** Architecture, classes, input size, normalisation. */
  config: 'config.json',
  /** One JSON line per epoch, written with each checkpoint. */
  metrics: 'metrics.jsonl',
  report: 'report.html',
  /** Model, optimizer and run state of the last saved epoch (removed when the run finishes, unless kept). */
  checkpoint: 'checkpoint.safetensors',
  /** The head-only first stage of a two-stage fine-tune: a run folder of its own. */
  headStage: 'head-stage',
} as const;

export type RunFile = keyof typeof RUN_FILES;

/**
 * @example
 * runPath('runs/a', 'checkpoint'); // 'runs/a/checkpoint.safetensors'
 */
export function runPath(dir: string, file: RunFile): string {
  return join(dir, RUN_FILES[file]);
}

const OURS = new Set<string>(Object.values(RUN_FILES));

export interface RunFolderIntent {
  /** Continue the run whose checkpoint is in the folder. */
  resume?: boolean;
  /** Replace the run in the folder. */
  overwrite?: boolean;
  /** The flag names to cite in errors (the CLI's; the library's option names otherwise). */
  flags?: { out: string; resume: string; overwrite: string; keepCheckpoint: string };
}

const CLI_FLAGS = { out: '--out', resume: '--resume', overwrite: '--overwrite', keepCheckpoint: '--keep-checkpoint' };

/**
 * Checks that a run may write into `dir`, before any data is read: `resume` needs a checkpoint
 * there (or in its head stage); otherwise the folder must be new, empty, or (with `overwrite`)
 * hold only a previous run's files. Changes nothing on disk.
 *
 * @example
 * checkRunFolder('runs/a', { resume: false, overwrite: false }); // throws if runs/a holds a model
 */
export function checkRunFolder(dir: string, o: RunFolderIntent = {}): void {
  const f = o.flags ?? CLI_FLAGS;
  if (o.resume === true) {
    const stage = join(dir, RUN_FILES.headStage);
    if (!existsSync(runPath(dir, 'checkpoint')) && !existsSync(runPath(stage, 'checkpoint'))) {
      // A finished run keeps its model, not its training state (as Ultralytics strips the optimizer).
      if (existsSync(runPath(dir, 'weights'))) {
        throw new TlcvError('FILE', `${f.resume}: the run in ${dir} has finished: nothing to resume (a finished run keeps its model, not its checkpoint, unless ${f.keepCheckpoint})`);
      }
      throw new TlcvError('FILE', `${f.resume}: no checkpoint at ${runPath(dir, 'checkpoint')}`);
    }
    return;
  }
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new TlcvError('ARGUMENT', `${f.out} ${dir} is a file, not a folder`);
  const entries = readdirSync(dir).filter((e) => !e.startsWith('.'));
  const foreign = entries.filter((e) => !OURS.has(e));
  if (foreign.length > 0) {
    throw new TlcvError('ARGUMENT', `${f.out} ${dir} already holds other files (${foreign.slice(0, 3).join(', ')}): choose an empty or new folder`);
  }
  if (entries.length > 0 && o.overwrite !== true) {
    const what = entries.includes(RUN_FILES.weights) ? 'a trained model' : 'an unfinished run';
    throw new TlcvError('ARGUMENT', `${f.out} ${dir} already holds ${what} (${entries.join(', ')}): pass ${f.overwrite} to replace it, ${f.resume} to continue it, or choose another folder`);
  }
}

/**
 * Removes a previous run's files from `dir` (what {@link checkRunFolder} allowed `overwrite` to
 * replace), so that the folder never mixes two runs.
 *
 * @example
 * clearRunFolder('runs/a');
 */
export function clearRunFolder(dir: string): void {
  for (const name of OURS) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * What a finished run leaves: its model, metrics and report, not its training state. The
 * checkpoint (three times the model, with AdamW's moments) and a head stage's folder are removed
 * once the model folder is written, unless `keep`.
 *
 * @example
 * finishRunFolder('runs/a', false); // runs/a keeps model.safetensors, config.json, metrics.jsonl, report.html
 */
export function finishRunFolder(dir: string, keep: boolean): void {
  if (keep) return;
  rmSync(runPath(dir, 'checkpoint'), { force: true });
  rmSync(join(dir, RUN_FILES.headStage), { recursive: true, force: true });
}
