import { TlcvError } from '../errors.js';
import { manualSeed } from '../tensor/index.js';
import { runTraining, splitValidation, loadForModel } from '../train/run.js';
import { applyStrategy, parseUnfreeze, type TransferMode } from '../transfer/strategy.js';
import { loadSourceModel } from '../transfer/source.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';
import { TRAIN_FLAGS, trainOptionsFrom } from './train-flags.js';
import { applyThreads, checkOutDir, pct, HEAD_STAGE_DIR } from './common.js';
import { join } from 'node:path';

export const transferCommand = defineCommand({
  name: 'transfer',
  usage: 'tlcv transfer --from DIR|FILE|ZOO-NAME --data SPEC --mode feature-extraction|fine-tune [--unfreeze N|all] --out DIR [flags]',
  summary: 'Adapt a source model to a target dataset by feature extraction or fine-tuning.',
  flags: {
    from: { kind: 'string', help: 'source: a tlcv model folder, a .safetensors/.pth file (with --model), or a zoo name', placeholder: 'DIR|FILE|NAME' },
    model: { kind: 'string', help: 'architecture of a bare weights file given to --from', placeholder: 'NAME' },
    mode: { kind: 'string', help: 'feature-extraction trains a new head on a frozen backbone; fine-tune also trains the last groups', choices: ['feature-extraction', 'fine-tune'], default: 'fine-tune' },
    unfreeze: { kind: 'string', help: 'fine-tune: how many layer groups before the head to train, or all', default: 'all', placeholder: 'N|all' },
    'head-epochs': { kind: 'int', help: 'fine-tune in two stages: first this many epochs on the head alone (cached features), then unfreeze', min: 0, default: 0, placeholder: 'N' },
    'lr-decay': { kind: 'number', help: 'fine-tune: LR factor per earlier layer group (discriminative LRs; 1 = off)', min: 0, exclusiveMin: true, max: 1, default: 1 },
    ...TRAIN_FLAGS,
  },
  async run(p) {
    applyThreads(p);
    const from = requireFlag(p, 'from', 'transfer');
    const spec = requireFlag(p, 'data', 'transfer');
    const out = requireFlag(p, 'out', 'transfer');
    const mode = p.flags.mode as TransferMode;
    const unfreeze = parseUnfreeze(p.flags.unfreeze as string);
    if (mode === 'feature-extraction' && p.flags.unfreeze !== 'all' && p.flags.unfreeze !== undefined && unfreeze !== 0) {
      throw new TlcvError('ARGUMENT', '--unfreeze applies to --mode fine-tune; feature-extraction trains only the new head');
    }
    const options = trainOptionsFrom(p, { augment: 'none', lrDecay: p.flags['lr-decay'] as number });
    checkOutDir(out, p.flags.resume === true);
    const log = (m: string): void => console.error(m);
    const source = await loadSourceModel(from, { ...(typeof p.flags.model === 'string' ? { modelName: p.flags.model } : {}), log });
    const { model } = source;
    try {
      const onBadImage = p.flags['on-bad-image'] as 'error' | 'skip';
      const data = await loadForModel(spec, model, { onBadImage, log });
      const split = await splitValidation(data, p.flags.val as string | undefined, options.seed, (s) => loadForModel(s, model, { onBadImage, log }));
      // libtorch seeds its generator from the OS: without this, --seed would not fix the new head.
      manualSeed(options.seed);
      model.resetClassifier(data.classes.length);
      const headEpochs = p.flags['head-epochs'] as number;
      if (mode === 'fine-tune' && headEpochs > 0 && p.flags.resume !== true) {
        // fastai's fine_tune: train the new head on frozen features first, so the random head's
        // large gradients do not disturb the pretrained layers, then unfreeze.
        const head = applyStrategy(model, 'feature-extraction');
        await runTraining({
          model,
          train: split.train,
          val: split.val,
          options: { ...options, epochs: headEpochs },
          out: join(out, HEAD_STAGE_DIR),
          frozenStages: head.frozenStages,
          quiet: p.flags.quiet === true,
          title: `stage 1 (head only) from ${from} to ${spec}`,
          provenance: { command: 'transfer', from, data: spec, mode: 'feature-extraction', stage: 1 },
        });
      }
      const plan = applyStrategy(model, mode, mode === 'feature-extraction' ? 0 : unfreeze);
      log(`source: ${source.description}; ${mode}: ${plan.frozenStages} of ${model.stages().length} layer groups frozen, ${plan.trainableParams.toLocaleString('en')} of ${plan.totalParams.toLocaleString('en')} parameters trainable`);
      const r = await runTraining({
        model,
        train: split.train,
        val: split.val,
        options,
        out,
        frozenStages: plan.frozenStages,
        resume: p.flags.resume === true,
        quiet: p.flags.quiet === true,
        title: `${mode} from ${from} to ${spec}`,
        provenance: { command: 'transfer', from, data: spec, mode, unfreeze, frozenStages: plan.frozenStages },
      });
      const ev = r.evaluation;
      console.log(`wrote ${out} (${r.seconds.toFixed(1)}s)${ev ? `; ${split.val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
