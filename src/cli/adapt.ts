import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import { ADAPT_BATCH_CAP, ADAPT_METHODS, ADAPT_TRAIN_DEFAULTS, PSEUDO_LABEL_DEFAULTS, load, type AdaptResult } from '../runs/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, parseMemorySize, trainOptionsFrom } from './train-flags.js';
import { applyThreads, pct, sourceFlags } from './common.js';

const TRAINING = ['epochs', 'lr', 'optimizer', 'momentum', 'weight-decay', 'scheduler', 'step-size', 'gamma', 'warmup-epochs', 'label-smoothing', 'augment', 'seed', 'precision', 'channels-last', 'drop-last', 'device'] as const;
const pick = <K extends keyof typeof TRAIN_FLAGS>(keys: readonly K[]): Pick<typeof TRAIN_FLAGS, K> => Object.fromEntries(keys.map((k) => [k, TRAIN_FLAGS[k]])) as Pick<typeof TRAIN_FLAGS, K>;

/** One line of scores: "target 52.10% -> 77.30%; source 98.90% -> 98.20%". */
function scoreLine(r: AdaptResult): string {
  const parts: string[] = [];
  if (r.before.target && r.after.target) parts.push(`target test accuracy ${pct(r.before.target.accuracy)} (source-only) -> ${pct(r.after.target.accuracy)} (${r.method})`);
  if (r.before.source && r.after.source) parts.push(`source accuracy ${pct(r.before.source.accuracy)} -> ${pct(r.after.source.accuracy)}`);
  return parts.join('; ');
}

export const adaptCommand = defineCommand({
  name: 'adapt',
  usage: 'tlcv adapt --model DIR|FILE|ZOO-NAME --source SPEC --target SPEC --method adabn|dann|pseudo-label --out DIR [--target-test SPEC] [flags]',
  flags: {
    model: { kind: 'string', help: 'the source-trained model: a tlcv model folder, a weights file (with --arch), or a zoo name', placeholder: 'DIR|FILE|NAME' },
    arch: { kind: 'string', help: 'architecture of a bare weights file given to --model', placeholder: 'NAME' },
    from: { kind: 'string', help: 'the old spelling of --model (works until the next release)', placeholder: 'DIR|FILE|NAME' },
    method: { kind: 'string', help: 'adabn: recompute BatchNorm statistics on the target; dann: adversarial domain classifier; pseudo-label: rounds of self-training', choices: ADAPT_METHODS, required: true },
    source: { kind: 'string', help: "labelled source-domain data, in the model's classes (dann and pseudo-label train on it; adabn only scores it)", placeholder: 'SPEC' },
    target: { kind: 'string', help: 'target-domain images; their labels, if any, are never read', placeholder: 'SPEC', required: true },
    'target-test': { kind: 'string', help: 'labelled target-domain test data, scored before, after and at every epoch for the record only', placeholder: 'SPEC' },
    val: { kind: 'string', help: 'source validation for dann and pseudo-label: a fraction held out of --source, "none", or a data spec', default: '0.1', placeholder: 'FRAC|none|SPEC' },
    out: TRAIN_FLAGS.out,
    overwrite: TRAIN_FLAGS.overwrite,
    ...pick(TRAINING),
    epochs: { ...TRAIN_FLAGS.epochs, help: `epochs (default: dann ${ADAPT_TRAIN_DEFAULTS.dann.epochs}, pseudo-label ${ADAPT_TRAIN_DEFAULTS['pseudo-label'].epochs} per round)` },
    'batch-size': { ...TRAIN_FLAGS['batch-size'], help: `mini-batch size (dann: of each domain; default: automatic, as pretrain's, at most ${ADAPT_BATCH_CAP})` },
    'max-memory': TRAIN_FLAGS['max-memory'],
    tradeoff: { kind: 'number', help: "dann: weight of the domain loss (TLlib's trade-off)", min: 0, default: 1 },
    rounds: { kind: 'int', help: 'pseudo-label: rounds of labelling the target and training (--epochs each)', min: 1, default: PSEUDO_LABEL_DEFAULTS.rounds },
    threshold: { kind: 'number', help: 'pseudo-label: least top-class probability for a target image to be labelled (0: rank by confidence only)', min: 0, max: 1, default: PSEUDO_LABEL_DEFAULTS.threshold },
    'max-per-class': { kind: 'int', help: 'pseudo-label: most images per class in a round (default: an equal share of the confident ones)', min: 0, placeholder: 'N' },
    'on-bad-image': TRAIN_FLAGS['on-bad-image'],
    threads: TRAIN_FLAGS.threads,
    quiet: TRAIN_FLAGS.quiet,
  },
  async run({ flags: f }) {
    const t0 = performance.now();
    const from = sourceFlags('adapt', f);
    applyThreads(f.threads);
    if (f.method !== 'adabn' && f.source === undefined) throw new TlcvError('ARGUMENT', `--source is required for --method ${f.method} (it trains on labelled source images)`);
    const method = f.method;
    const options = trainOptionsFrom({ ...f, patience: 0 }, method === 'adabn' ? { augment: 'none' } : { augment: 'none', ...ADAPT_TRAIN_DEFAULTS[method] });
    checkRunFolder(f.out, { overwrite: f.overwrite });
    const log = (m: string): void => console.error(m);
    const m = await load(from.model, { ...(from.arch === undefined ? {} : { arch: from.arch }), log });
    try {
      const { result } = await m.adapt(f.target, {
        method,
        ...(f.source === undefined ? {} : { source: f.source }),
        ...(f['target-test'] === undefined ? {} : { targetTest: f['target-test'] }),
        val: f.val,
        options,
        ...(f['max-memory'] === undefined ? {} : { maxMemory: parseMemorySize(f['max-memory'])! }),
        dann: { tradeoff: f.tradeoff },
        pseudoLabel: { rounds: f.rounds, threshold: f.threshold, ...(f['max-per-class'] === undefined ? {} : { maxPerClass: f['max-per-class'] }) },
        onBadImage: f['on-bad-image'],
        out: f.out,
        quiet: f.quiet,
        log,
      });
      const line = scoreLine(result);
      console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s)${line ? `; ${line}` : ''}`);
    } finally {
      m.dispose();
    }
    return 0;
  },
});
