/**
 * The callbacks of a run that lives in a folder, as `tlcv pretrain`, `tlcv transfer` and the
 * demo use them: progress, checkpoints (by time, resumable), and the report at the end. The
 * model itself is saved by the caller (`saveModelFolder(out, ...)`), after the fit.
 */
import type { Dataset } from '../data/index.js';
import { runPath } from '../io/run-folder.js';
import { Checkpoint, Progress, Report, type Callback, type ProgressOptions } from '../train/index.js';

export interface FolderRunOptions {
  out: string;
  /** Names the run in progress lines and the report. */
  title: string;
  /** What the report and config.json say about where the run came from. */
  provenance: Record<string, unknown>;
  /** What the report evaluates on: the validation set, else the training set. */
  evalSet: Dataset;
  resume?: boolean;
  overwrite?: boolean;
  /** Seconds between checkpoints (default 60; 0: every epoch). */
  checkpointEvery?: number;
  /** Checkpoint and stop on SIGINT/SIGTERM (default true; a run nobody resumes leaves them to their default). */
  signals?: boolean;
  progress?: Omit<ProgressOptions, 'title'>;
  /** More summary lines for the report, asked for when it is written. */
  info?: () => Record<string, string | number>;
}

/**
 * @example
 * const { callbacks, report } = folderRunCallbacks({ out: 'runs/a', title: 'digits', provenance: {}, evalSet: val });
 * const learn = new Learner({ model, train, val, callbacks, quiet: true });
 * await learn.fit();
 * saveModelFolder('runs/a', model, { classes: train.classes, preprocess });
 */
export function folderRunCallbacks(o: FolderRunOptions): { callbacks: Callback[]; report: Report; checkpoint: Checkpoint } {
  const checkpoint = new Checkpoint(o.out, {
    resume: o.resume === true,
    overwrite: o.overwrite === true,
    ...(o.checkpointEvery === undefined ? {} : { everySeconds: o.checkpointEvery }),
    ...(o.signals === undefined ? {} : { signals: o.signals }),
  });
  const report = new Report(runPath(o.out, 'report'), { title: o.title, evalSet: o.evalSet, provenance: o.provenance, ...(o.info ? { info: o.info } : {}) });
  return { callbacks: [new Progress({ ...o.progress, title: o.title }), checkpoint, report], report, checkpoint };
}
