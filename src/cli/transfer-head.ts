/**
 * `tlcv transfer --mode ncm|knn|probe`: a training-free head on the source model's features,
 * fitted in seconds on the labelled target data (the support set), written as a model folder.
 */
import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { HEAD_MODES, type HeadMode } from '../transfer/heads/index.js';
import { Learner, loadForModel, prepareTransfer, writeResultFolder } from '../train/index.js';
import type { FlagValues } from './args.js';
import { dataChoicesFrom, trainOptionsFrom, type TRAIN_FLAGS } from './train-flags.js';
import { pct } from './common.js';

/** The flags of `tlcv transfer` that the head modes read. */
export type HeadFlags = FlagValues<typeof TRAIN_FLAGS> & {
  from: string;
  model: string | undefined;
  unfreeze: string;
  'head-epochs': number;
  'lr-decay': number;
  k: number | undefined;
  center: string | undefined;
};

export function isHeadMode(mode: string): mode is HeadMode {
  return (HEAD_MODES as readonly string[]).includes(mode);
}

/** Flags that only mean something when training: refused rather than silently ignored. */
function refuseTrainingFlags(mode: HeadMode, f: HeadFlags): void {
  const given: string[] = [];
  if (f.epochs !== undefined) given.push('--epochs');
  if (f.lr !== undefined) given.push('--lr');
  if (f.augment !== undefined) given.push('--augment');
  if (f.resume) given.push('--resume');
  if (f['head-epochs'] > 0) given.push('--head-epochs');
  if (f.unfreeze !== 'all') given.push('--unfreeze');
  if (f['lr-decay'] !== 1) given.push('--lr-decay');
  if (given.length > 0) throw new TlcvError('ARGUMENT', `${given.join(', ')}: ${mode} fits its head without training; these flags apply to --mode feature-extraction and fine-tune`);
  if (f.k !== undefined && mode !== 'knn') throw new TlcvError('ARGUMENT', `--k: the number of neighbours applies to --mode knn, not ${mode}`);
  if (f.center !== undefined && mode === 'probe') throw new TlcvError('ARGUMENT', '--center: probe standardises the support features itself; centring applies to --mode ncm and knn');
}

/**
 * Fits the head, scores it on the validation data (or the support set), writes the folder.
 *
 * @example
 * await transferHead('ncm', flags); // tlcv transfer --from runs/source --data mnist:all@k=10 --mode ncm --out runs/ncm
 */
export async function transferHead(mode: HeadMode, f: HeadFlags): Promise<number> {
  const t0 = performance.now();
  refuseTrainingFlags(mode, f);
  checkRunFolder(f.out, { overwrite: f.overwrite });
  const options = trainOptionsFrom(f, { augment: 'none' });
  const log = (m: string): void => console.error(m);
  const how = { onBadImage: f['on-bad-image'], log };
  // The same preprocessing choices as the training modes (--input-size, --crop-pct, ...): the
  // head's features are computed with this record, and the folder records it.
  const choices = dataChoicesFrom(f, log);
  const { model, train, val, preprocess, description } = await prepareTransfer({ from: f.from, ...(f.model === undefined ? {} : { modelName: f.model }), data: f.data, val: f.val, seed: options.seed, ...choices });
  try {
    if (f.k !== undefined && f.k > train.n) throw new TlcvError('ARGUMENT', `--k: expected at most ${train.n} (the support images in --data), got ${f.k}`);
    const center = f.center === undefined ? null : await loadForModel(f.center, model, { ...how, preprocess });
    const learn = new Learner({ model, train, val, options, classes: train.classes, preprocess, quiet: true });
    const tf = performance.now();
    const head = await learn.fewShotHead({ mode, ...(f.k === undefined ? {} : { k: f.k }), center, probe: { seed: options.seed } });
    const fitTime = `fit ${((performance.now() - tf) / 1000).toFixed(1)}s`;
    const evalSet = val ?? train;
    const evaluation = await learn.evaluate(evalSet, { batchSize: 256 });
    const provenance = { command: 'transfer', from: f.from, data: f.data, mode, ...(f.center === undefined ? {} : { center: f.center }), ...(head.lambda === undefined ? {} : { lambda: head.lambda }) };
    const info: Record<string, string | number> = { head: `${mode} on ${head.supportImages} support images, ${head.featureDim} features`, 'fit seconds': Number(head.seconds.toFixed(2)) };
    if (mode !== 'probe') info['centred on'] = head.centeredOn === 'source' ? `the mean of ${f.center}` : 'the support set mean';
    if (mode === 'knn') info.k = f.k ?? 5;
    if (head.lambda !== undefined) info['L2 strength'] = head.lambda;
    const fit = { history: [], bestEpoch: 0, stoppedEarly: false, lrTrace: [] };
    const title = `${mode} head from ${f.from} on ${f.data}`;
    await writeResultFolder(f.out, { classes: train.classes, preprocess, report: { title, model, plan: learn.evaluationPlan!, options, fit, evaluation, evalSet, epochSeconds: [], provenance, info } });
    log(`source: ${description}; ${mode} head fitted on ${head.supportImages} images (${head.featureDim} features) in ${head.seconds.toFixed(2)}s`);
    console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s, ${fitTime}); ${val ? 'validation' : 'support-set'} accuracy ${pct(evaluation.accuracy)}`);
  } finally {
    model.dispose();
  }
  return 0;
}
