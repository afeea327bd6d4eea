import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { parseUnfreeze } from '../transfer/strategy.js';
import { Learner, folderRunCallbacks, prepareTransfer } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, folderFlags, trainOptionsFrom } from './train-flags.js';
import { applyThreads, pct } from './common.js';
import { HEAD_MODES } from '../transfer/heads/index.js';
import { isHeadMode, transferHead } from './transfer-head.js';

export const transferCommand = defineCommand({
  name: 'transfer',
  usage: 'tlcv transfer --from DIR|FILE|ZOO-NAME --data SPEC --mode feature-extraction|fine-tune|ncm|knn|probe [--unfreeze N|all] [--k N] [--center SPEC] --out DIR [flags]',
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
  },
  async run({ flags: f }) {
    const t0 = performance.now();
    applyThreads(f.threads);
    if (isHeadMode(f.mode)) return transferHead(f.mode, f);
    if (f.k !== undefined || f.center !== undefined) throw new TlcvError('ARGUMENT', `${f.k !== undefined ? '--k' : '--center'} applies to the training-free head modes (ncm, knn, probe), not --mode ${f.mode}`);
    const unfreeze = parseUnfreeze(f.unfreeze);
    if (f.mode === 'feature-extraction' && f.unfreeze !== 'all' && unfreeze !== 0) {
      throw new TlcvError('ARGUMENT', '--unfreeze applies to --mode fine-tune; feature-extraction trains only the new head');
    }
    const options = trainOptionsFrom(f, { augment: 'none', lrDecay: f['lr-decay'] });
    checkRunFolder(f.out, f);
    const log = (m: string): void => console.error(m);
    const { model, train, val, preprocess, description } = await prepareTransfer({ from: f.from, ...(f.model === undefined ? {} : { modelName: f.model }), data: f.data, val: f.val, seed: options.seed, ...dataChoicesFrom(f, log) });
    try {
      const provenance = { command: 'transfer', from: f.from, data: f.data, mode: f.mode, unfreeze };
      const run = folderRunCallbacks({ ...folderFlags(f), title: `${f.mode} from ${f.from} to ${f.data}`, provenance, evalSet: val ?? train });
      const learn = new Learner({ model, train, val, preprocess, options, callbacks: run.callbacks, quiet: true });
      const s = learn.setStrategy(f.mode, f.mode === 'feature-extraction' ? 0 : unfreeze);
      log(`source: ${description}; ${f.mode}: ${s.frozenStages} of ${model.stages().length} layer groups frozen, ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters trainable`);
      const tf = performance.now();
      if (f.mode === 'fine-tune') await learn.fineTune({ headEpochs: f['head-epochs'], unfreeze });
      else await learn.featureExtract();
      const fit = `fit ${((performance.now() - tf) / 1000).toFixed(1)}s`;
      learn.save(f.out, { provenance: { ...provenance, frozenStages: s.frozenStages } });
      const ev = run.report.evaluation;
      console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s, ${fit})${ev ? `; ${val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
