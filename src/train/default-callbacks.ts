/** The callbacks a fit gets without asking: progress on stderr, and early stopping that keeps the best weights when `patience` is set. */
import type { Callback } from './callback.js';
import type { TrainOptions } from './options.js';
import { Progress } from './progress.js';
import { EarlyStopping, KeepBest } from './best.js';

export function defaultCallbacks(learn: { options: TrainOptions }, given: Callback[], o: { quiet: boolean; hasVal: boolean }): Callback[] {
  const out = [...given];
  const has = (name: string): boolean => given.some((c) => c.name === name);
  if (!o.quiet && !has('progress')) out.push(new Progress());
  // Early stopping watches validation accuracy: without validation data there is nothing to watch.
  if (learn.options.patience > 0 && o.hasVal) {
    if (!has('keep-best')) out.push(new KeepBest());
    if (!has('early-stopping')) out.push(new EarlyStopping(learn.options.patience));
  }
  return out;
}
