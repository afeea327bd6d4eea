import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { parseUnfreeze } from '../transfer/strategy.js';
import { HEAD_MODES } from '../transfer/heads/index.js';
import { describeCalibration, load } from '../runs/index.js';
import type { CalibrationRecord } from '../metrics/index.js';
import { ModelEma } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, parseMemorySize, trainOptionsFrom, unknownFrom } from './train-flags.js';
import { applyThreads, pct, sourceFlags } from './common.js';
import { DIST_FLAGS, runDataParallel } from './data-parallel.js';
import { isHeadMode, refuseTrainingFlags } from './transfer-head.js';

export const transferCommand = defineCommand({
  name: 'transfer',
  usage: 'tlcv transfer --model DIR|FILE|ZOO-NAME --data SPEC --mode feature-extraction|fine-tune|ncm|knn|probe [--unfreeze N|all] [--k N] [--center SPEC] --out DIR [--nproc N] [flags]',
  flags: {
    model: { kind: 'string', help: 'the source model: a tlcv model folder, a .safetensors/.pth file (with --arch), or a zoo name', placeholder: 'DIR|FILE|NAME' },
    arch: { kind: 'string', help: 'architecture of a bare weights file given to --model', placeholder: 'NAME' },
    from: { kind: 'string', help: 'the old spelling of --model (works until the next release)', placeholder: 'DIR|FILE|NAME' },
    mode: {
      kind: 'string',
      help: 'feature-extraction trains a new head on a frozen backbone; fine-tune also trains the last groups; ncm (nearest class mean), knn (cosine k-nearest neighbours) and probe (L-BFGS logistic regression) fit a head in seconds without training',
      choices: ['feature-extraction', 'fine-tune', ...HEAD_MODES],
      default: 'fine-tune',
    },
    k: { kind: 'int', help: 'knn: neighbours that vote (default 5)', min: 1, placeholder: 'N' },
    center: { kind: 'string', help: 'ncm, knn: source-domain data whose mean feature the features are centred on (SimpleShot; default: the support set mean)', placeholder: 'SPEC' },
    unfreeze: { kind: 'string', help: 'fine-tune: how many layer groups before the head to train, or all', default: 'all', placeholder: 'N|all' },
    'head-epochs': { kind: 'int', help: 'fine-tune in two stages: first this many epochs on the head alone (cached features), then unfreeze', min: 0, default: 0, placeholder: 'N' },
    'lr-decay': { kind: 'number', help: 'fine-tune: LR factor per earlier layer group (discriminative LRs; 1 = off)', min: 0, exclusiveMin: true, max: 1, default: 1 },
    ...TRAIN_FLAGS,
    ...DIST_FLAGS,
  },
  async run({ flags: f, argv }) {
    const t0 = performance.now();
    const source = sourceFlags('transfer', f);
    const choices = dataChoicesFrom(f, () => undefined);
    const open = { ...(source.arch === undefined ? {} : { arch: source.arch }), ...(choices.inputSize ? { inputSize: choices.inputSize } : {}) };
    const wrote = (ev: { accuracy: number } | null, on: string, fit: number, cal: CalibrationRecord | null): void => {
      console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s, fit ${fit.toFixed(1)}s)${ev ? `; ${on} accuracy ${pct(ev.accuracy)}` : ''}`);
      if (cal) console.log(describeCalibration(cal));
    };
    if (isHeadMode(f.mode)) {
      // A training-free head takes seconds on one process: there is nothing to share out.
      if ((f.nproc ?? 1) > 1 || (f.nnodes ?? 1) > 1) throw new TlcvError('ARGUMENT', `--nproc and --nnodes apply to training, not --mode ${f.mode} (a training-free head fits in one process)`);
      refuseTrainingFlags(f.mode, f);
      applyThreads(f.threads);
      checkRunFolder(f.out, { overwrite: f.overwrite });
      const log = (m: string): void => console.error(m);
      const m = await load(source.model, { ...open, log });
      try {
        const r = await m.transfer(f.data, {
          ...unknownFrom(f),
          mode: f.mode,
          options: trainOptionsFrom(f, { augment: 'none' }),
          val: f.val,
          choices: { ...choices, log },
          out: { dir: f.out, overwrite: f.overwrite },
          ...(f.k === undefined ? {} : { k: f.k }),
          ...(f.center === undefined ? {} : { center: f.center }),
          log,
        });
        wrote(r.evaluation, r.evaluatedOn, r.fitSeconds, r.calibration);
      } finally {
        m.dispose();
      }
      return 0;
    }
    if (f.k !== undefined || f.center !== undefined) throw new TlcvError('ARGUMENT', `${f.k !== undefined ? '--k' : '--center'} applies to the training-free head modes (ncm, knn, probe), not --mode ${f.mode}`);
    const unfreeze = parseUnfreeze(f.unfreeze);
    if (f.mode === 'feature-extraction' && f.unfreeze !== 'all' && unfreeze !== 0) {
      throw new TlcvError('ARGUMENT', '--unfreeze applies to --mode fine-tune; feature-extraction trains only the new head');
    }
    const options = trainOptionsFrom(f, { augment: 'none', lrDecay: f['lr-decay'] });
    const maxMemory = parseMemorySize(f['max-memory']);
    const mode = f.mode;
    return runDataParallel('transfer', argv, f, () => checkRunFolder(f.out, f), async ({ group, isMain }) => {
      const log = (m: string): void => void (isMain && console.error(m));
      const m = await load(source.model, { ...open, log });
      try {
        const r = await m.transfer(f.data, {
          ...unknownFrom(f),
          mode,
          unfreeze,
          headEpochs: f['head-epochs'],
          options,
          val: f.val,
          choices: { ...choices, log },
          out: { dir: f.out, resume: f.resume, overwrite: f.overwrite, checkpointEvery: f['checkpoint-every'], keepCheckpoint: f['keep-checkpoint'] },
          group,
          quiet: f.quiet,
          ...(f.ema ? { callbacks: [new ModelEma()] } : {}),
          ...(maxMemory === undefined ? {} : { maxMemory }),
          log,
        });
        if (isMain) wrote(r.evaluation, r.evaluatedOn, r.fitSeconds, r.calibration);
      } finally {
        m.dispose();
      }
      return 0;
    });
  },
});
