import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { parseUnfreeze, type TransferMode } from '../transfer/strategy.js';
import { DataParallel, Learner, folderRunCallbacks, prepareTransfer, type DataChoices, type TrainOptions } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, folderFlags, trainOptionsFrom, type TrainFlags } from './train-flags.js';
import { applyThreads, pct } from './common.js';
import { DIST_FLAGS, runDataParallel, type RunRole } from './data-parallel.js';
import { HEAD_MODES } from '../transfer/heads/index.js';
import { isHeadMode, transferHead } from './transfer-head.js';

export const transferCommand = defineCommand({
  name: 'transfer',
  usage: 'tlcv transfer --from DIR|FILE|ZOO-NAME --data SPEC --mode feature-extraction|fine-tune|ncm|knn|probe [--unfreeze N|all] [--k N] [--center SPEC] --out DIR [--nproc N] [flags]',
  flags: {
    from: { kind: 'string', help: 'source: a tlcv model folder, a .safetensors/.pth file (with --model), or a zoo name', placeholder: 'DIR|FILE|NAME', required: true },
    model: { kind: 'string', help: 'architecture of a bare weights file given to --from', placeholder: 'NAME' },
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
    if (isHeadMode(f.mode)) {
      // A training-free head takes seconds on one process: there is nothing to share out.
      if ((f.nproc ?? 1) > 1 || (f.nnodes ?? 1) > 1) throw new TlcvError('ARGUMENT', `--nproc and --nnodes apply to training, not --mode ${f.mode} (a training-free head fits in one process)`);
      applyThreads(f.threads);
      return transferHead(f.mode, f);
    }
    if (f.k !== undefined || f.center !== undefined) throw new TlcvError('ARGUMENT', `${f.k !== undefined ? '--k' : '--center'} applies to the training-free head modes (ncm, knn, probe), not --mode ${f.mode}`);
    const unfreeze = parseUnfreeze(f.unfreeze);
    if (f.mode === 'feature-extraction' && f.unfreeze !== 'all' && unfreeze !== 0) {
      throw new TlcvError('ARGUMENT', '--unfreeze applies to --mode fine-tune; feature-extraction trains only the new head');
    }
    const options = trainOptionsFrom(f, { augment: 'none', lrDecay: f['lr-decay'] });
    const run = { mode: f.mode, unfreeze, headEpochs: f['head-epochs'], options, choices: dataChoicesFrom(f, () => undefined), t0 };
    return runDataParallel('transfer', argv, f, () => checkRunFolder(f.out, f), (role) => transfer(f, run, role));
  },
});

interface TransferRun {
  mode: Exclude<TransferMode, 'scratch'>;
  unfreeze: number | 'all';
  headEpochs: number;
  options: TrainOptions;
  choices: DataChoices;
  t0: number;
}

async function transfer(f: TrainFlags & { from: string; model: string | undefined }, r: TransferRun, { group, isMain }: RunRole): Promise<number> {
  const log = (m: string): void => void (isMain && console.error(m));
  const { model, train, val, preprocess, description } = await prepareTransfer({ from: f.from, ...(f.model === undefined ? {} : { modelName: f.model }), data: f.data, val: f.val, seed: r.options.seed, ...r.choices, log });
  try {
    const provenance = { command: 'transfer', from: f.from, data: f.data, mode: r.mode, unfreeze: r.unfreeze };
    const run = folderRunCallbacks({ ...folderFlags(f, isMain), title: `${r.mode} from ${f.from} to ${f.data}`, provenance, evalSet: val ?? train });
    const callbacks = group === null ? run.callbacks : [...run.callbacks, new DataParallel(group)];
    const learn = new Learner({ model, train, val, preprocess, options: r.options, callbacks, quiet: true });
    const s = learn.setStrategy(r.mode, r.mode === 'feature-extraction' ? 0 : r.unfreeze);
    log(`source: ${description}; ${r.mode}: ${s.frozenStages} of ${model.stages().length} layer groups frozen, ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters trainable`);
    const tf = performance.now();
    if (r.mode === 'fine-tune') await learn.fineTune({ headEpochs: r.headEpochs, unfreeze: r.unfreeze });
    else await learn.featureExtract();
    const fit = `fit ${((performance.now() - tf) / 1000).toFixed(1)}s`;
    if (!isMain) return 0;
    learn.save(f.out, { provenance: { ...provenance, frozenStages: s.frozenStages } });
    const ev = run.report.evaluation;
    console.log(`wrote ${f.out} (${((performance.now() - r.t0) / 1000).toFixed(1)}s, ${fit})${ev ? `; ${val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
  } finally {
    model.dispose();
  }
  return 0;
}
