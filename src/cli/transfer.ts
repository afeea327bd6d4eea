import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { parseUnfreeze, type TransferMode } from '../transfer/strategy.js';
import { DataParallel, Learner, folderRunCallbacks, prepareTransfer, type TrainOptions } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, folderFlags, trainOptionsFrom, type TrainFlags } from './train-flags.js';
import { pct } from './common.js';
import { DIST_FLAGS, runDataParallel, type RunRole } from './data-parallel.js';

export const transferCommand = defineCommand({
  name: 'transfer',
  usage: 'tlcv transfer --from DIR|FILE|ZOO-NAME --data SPEC --mode feature-extraction|fine-tune [--unfreeze N|all] --out DIR [--nproc N] [flags]',
  flags: {
    from: { kind: 'string', help: 'source: a tlcv model folder, a .safetensors/.pth file (with --model), or a zoo name', placeholder: 'DIR|FILE|NAME', required: true },
    model: { kind: 'string', help: 'architecture of a bare weights file given to --from', placeholder: 'NAME' },
    mode: { kind: 'string', help: 'feature-extraction trains a new head on a frozen backbone; fine-tune also trains the last groups', choices: ['feature-extraction', 'fine-tune'], default: 'fine-tune' },
    unfreeze: { kind: 'string', help: 'fine-tune: how many layer groups before the head to train, or all', default: 'all', placeholder: 'N|all' },
    'head-epochs': { kind: 'int', help: 'fine-tune in two stages: first this many epochs on the head alone (cached features), then unfreeze', min: 0, default: 0, placeholder: 'N' },
    'lr-decay': { kind: 'number', help: 'fine-tune: LR factor per earlier layer group (discriminative LRs; 1 = off)', min: 0, exclusiveMin: true, max: 1, default: 1 },
    ...TRAIN_FLAGS,
    ...DIST_FLAGS,
  },
  async run({ flags: f, argv }) {
    const t0 = performance.now();
    const unfreeze = parseUnfreeze(f.unfreeze);
    if (f.mode === 'feature-extraction' && f.unfreeze !== 'all' && unfreeze !== 0) {
      throw new TlcvError('ARGUMENT', '--unfreeze applies to --mode fine-tune; feature-extraction trains only the new head');
    }
    const options = trainOptionsFrom(f, { augment: 'none', lrDecay: f['lr-decay'] });
    const run = { mode: f.mode, unfreeze, headEpochs: f['head-epochs'], options, t0 };
    return runDataParallel('transfer', argv, f, () => checkRunFolder(f.out, f), (role) => transfer(f, run, role));
  },
});

interface TransferRun {
  mode: Exclude<TransferMode, 'scratch'>;
  unfreeze: number | 'all';
  headEpochs: number;
  options: TrainOptions;
  t0: number;
}

async function transfer(f: TrainFlags & { from: string; model: string | undefined }, r: TransferRun, { group, isMain }: RunRole): Promise<number> {
  const log = (m: string): void => void (isMain && console.error(m));
  const { model, train, val, description } = await prepareTransfer({ from: f.from, ...(f.model === undefined ? {} : { modelName: f.model }), data: f.data, val: f.val, seed: r.options.seed, onBadImage: f['on-bad-image'], log });
  try {
    const provenance = { command: 'transfer', from: f.from, data: f.data, mode: r.mode, unfreeze: r.unfreeze };
    const run = folderRunCallbacks({ ...folderFlags(f, isMain), title: `${r.mode} from ${f.from} to ${f.data}`, provenance, evalSet: val ?? train });
    const callbacks = group === null ? run.callbacks : [...run.callbacks, new DataParallel(group)];
    const learn = new Learner({ model, train, val, options: r.options, callbacks, quiet: true });
    const s = learn.setStrategy(r.mode, r.mode === 'feature-extraction' ? 0 : r.unfreeze);
    log(`source: ${description}; ${r.mode}: ${s.frozenStages} of ${model.stages().length} layer groups frozen, ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters trainable`);
    if (r.mode === 'fine-tune') await learn.fineTune({ headEpochs: r.headEpochs, unfreeze: r.unfreeze });
    else await learn.featureExtract();
    if (!isMain) return 0;
    learn.save(f.out, { provenance: { ...provenance, frozenStages: s.frozenStages } });
    const ev = run.report.evaluation;
    console.log(`wrote ${f.out} (${((performance.now() - r.t0) / 1000).toFixed(1)}s)${ev ? `; ${val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
  } finally {
    model.dispose();
  }
  return 0;
}
