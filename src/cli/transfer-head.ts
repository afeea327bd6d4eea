/** `tlcv transfer --mode ncm|knn|probe`: the flags a training-free head reads, and those it refuses. */
import { TlcvError } from '../errors.js';
import { HEAD_MODES, type HeadMode } from '../transfer/heads/index.js';

export function isHeadMode(mode: string): mode is HeadMode {
  return (HEAD_MODES as readonly string[]).includes(mode);
}

/** What refuseTrainingFlags reads of `tlcv transfer`'s flags. */
export interface HeadFlagValues {
  epochs: number | undefined;
  lr: number | undefined;
  augment: string | undefined;
  resume: boolean;
  unfreeze: string;
  'head-epochs': number;
  'lr-decay': number;
  'max-memory': string | undefined;
  ema: boolean;
  k: number | undefined;
  center: string | undefined;
}

/**
 * Flags that only mean something when training are refused rather than silently ignored.
 *
 * @example
 * refuseTrainingFlags('ncm', flags); // throws "--epochs: ncm fits its head without training; ..."
 */
export function refuseTrainingFlags(mode: HeadMode, f: HeadFlagValues): void {
  const given: string[] = [];
  if (f.epochs !== undefined) given.push('--epochs');
  if (f.lr !== undefined) given.push('--lr');
  if (f.augment !== undefined) given.push('--augment');
  if (f.resume) given.push('--resume');
  if (f['head-epochs'] > 0) given.push('--head-epochs');
  if (f.unfreeze !== 'all') given.push('--unfreeze');
  if (f['lr-decay'] !== 1) given.push('--lr-decay');
  if (f['max-memory'] !== undefined) given.push('--max-memory');
  if (f.ema) given.push('--ema');
  if (given.length > 0) throw new TlcvError('ARGUMENT', `${given.join(', ')}: ${mode} fits its head without training; these flags apply to --mode feature-extraction and fine-tune`);
  if (f.k !== undefined && mode !== 'knn') throw new TlcvError('ARGUMENT', `--k: the number of neighbours applies to --mode knn, not ${mode}`);
  if (f.center !== undefined && mode === 'probe') throw new TlcvError('ARGUMENT', '--center: probe standardises the support features itself; centring applies to --mode ncm and knn');
}
