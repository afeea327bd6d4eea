/**
 * `tlcv lr-find`: fastai's learning-rate finder (train/lr-find.ts) on a model and data prepared
 * as the run it precedes would prepare them (the same record, new head, frozen layers and
 * automatic batch), written as lr-find.json and report.html with the loss against the rate on a
 * log axis and the suggestion marked. `fit` calls lrFindOn before its fine-tuning.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, reportPage } from '../report/index.js';
import { applyStrategy, type TransferMode } from '../transfer/strategy.js';
import { lrFind, resolveTrainOptions, type LrFindResult, type TrainOptions } from '../train/index.js';
import { prepareScratch, prepareTransfer, type DataChoices, type Prepared } from './data-prep.js';
import { resolveRunSizes } from './run-sizes.js';
import { load } from './model.js';

export interface LrFindRunOptions {
  /** What the run that follows does: fine-tune (default), feature-extraction, or scratch (an architecture from seeded weights). */
  mode?: TransferMode;
  arch?: string;
  /** Validation as the run will hold it out (default '0.1'): the sweep trains on the rest only. */
  val?: string;
  options?: Partial<TrainOptions>;
  choices?: DataChoices;
  maxMemory?: number;
  /** Steps of the sweep (default 100), between these rates (default 1e-7 to 10). */
  iterations?: number;
  startLr?: number;
  endLr?: number;
  log?: (line: string) => void;
}

export interface LrFindOutcome extends LrFindResult {
  batchSize: number;
  mode: TransferMode;
}

/**
 * The sweep on a prepared model and data (the model is left as it was found).
 *
 * @example
 * const r = await lrFindOn(prepared, 'fine-tune', { seed: 0 });
 */
export async function lrFindOn(p: Prepared, mode: TransferMode, o: Pick<LrFindRunOptions, 'options' | 'maxMemory' | 'iterations' | 'startLr' | 'endLr' | 'log'> = {}): Promise<LrFindOutcome> {
  const s = applyStrategy(p.model, mode);
  const sizes = await resolveRunSizes({ model: p.model, train: p.train, val: p.val, options: o.options ?? {}, strategy: { mode, unfreeze: 'all' }, ...(o.maxMemory === undefined ? {} : { maxMemory: o.maxMemory }), ...(o.log ? { log: o.log } : {}) });
  const options = resolveTrainOptions(sizes.options);
  const r = await lrFind(p.model, p.train, { options, frozenStages: s.frozenStages, ...(o.iterations === undefined ? {} : { iterations: o.iterations }), ...(o.startLr === undefined ? {} : { startLr: o.startLr }), ...(o.endLr === undefined ? {} : { endLr: o.endLr }) });
  return { ...r, batchSize: options.batchSize, mode };
}

/**
 * Loads `model` (a folder, weights file or zoo name; an architecture for scratch), prepares
 * `data` as the run would, sweeps, and writes the report into `out` when given.
 *
 * @example
 * const r = await lrFindRun('resnet18', 'folder:photos', { out: 'runs/lr' });
 * console.log(r.suggestion);
 */
export async function lrFindRun(model: string, data: string, o: LrFindRunOptions & { out?: string }): Promise<LrFindOutcome> {
  const mode = o.mode ?? 'fine-tune';
  const seed = resolveTrainOptions(o.options ?? {}).seed;
  const m = await load(model, { ...(o.arch === undefined ? {} : { arch: o.arch }), ...(mode === 'scratch' ? { pretrained: false } : {}) });
  try {
    const val = o.val ?? '0.1';
    const choices = { ...o.choices, ...(o.log ? { log: o.log } : {}) };
    const p = mode === 'scratch' || !m.built ? await prepareScratch({ data, model: m.name, val, seed, ...choices }) : await prepareTransfer({ module: m.module, preprocess: m.preprocess }, { data, val, seed, ...choices });
    try {
      const r = await lrFindOn(p, mode, o);
      if (o.out !== undefined) writeLrFindReport(o.out, r, `lr-find: ${mode} of ${model} on ${data}`);
      return r;
    } finally {
      if (mode === 'scratch' || !m.built) p.model.dispose();
    }
  } finally {
    m.dispose();
  }
}

/** lr-find.json and report.html (the loss against the rate, the suggestion marked). */
export function writeLrFindReport(dir: string, r: LrFindOutcome, title: string): void {
  mkdirSync(dir, { recursive: true });
  const { lrs, losses, ...rest } = r;
  writeFileSync(join(dir, 'lr-find.json'), `${JSON.stringify({ ...rest, steps: lrs.map((lr, i) => ({ lr, loss: losses[i] })) }, null, 2)}\n`);
  const at = lrs.indexOf(r.suggestion);
  const chart = lineChart({
    name: 'lr-find',
    title: 'Loss against learning rate (smoothed)',
    xLabel: 'learning rate',
    yLabel: 'loss',
    logX: true,
    series: [
      { name: 'loss', points: lrs.map((lr, i) => [lr, losses[i]!]) },
      { name: `suggestion (valley) ${r.suggestion.toExponential(1)}`, points: at < 0 ? [] : [[r.suggestion, losses[at]!]], dashed: true },
    ],
    markers: false,
    ...(r.diverged ? { note: 'the sweep stopped where the loss exploded' } : {}),
  });
  const summary = `<p>Suggested learning rate (fastai's valley): <b>${r.suggestion.toExponential(2)}</b>; lowest smoothed loss at ${r.minimum.toExponential(2)}. ${lrs.length} steps at batch ${r.batchSize} in ${r.seconds.toFixed(1)}s; the model was left as it was.</p>`;
  writeFileSync(join(dir, 'report.html'), reportPage({ title, sections: [summary, chart] }));
}
