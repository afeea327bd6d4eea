import { TlcvError } from '../errors.js';
import { checkRunFolder } from '../io/run-folder.js';
import type { ImageDataset } from '../data/index.js';
import { loadSourceModel } from '../transfer/source.js';
import { withoutLabels } from '../transfer/adapt/index.js';
import { ADAPT_METHODS, ADAPT_TRAIN_DEFAULTS, PSEUDO_LABEL_DEFAULTS, Progress, adaptModel, loadInMemoryForModel, recordForModel, splitValidation, writeResultFolder, type AdaptResult } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, trainOptionsFrom } from './train-flags.js';
import { alignToModelClasses, applyThreads, pct } from './common.js';

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
  usage: 'tlcv adapt --from MODEL --source SPEC --target SPEC --method adabn|dann|pseudo-label --out DIR [--target-test SPEC] [flags]',
  flags: {
    from: { kind: 'string', help: 'the source-trained model: a tlcv model folder, a weights file (with --model), or a zoo name', placeholder: 'DIR|FILE|NAME', required: true },
    model: { kind: 'string', help: 'architecture of a bare weights file given to --from', placeholder: 'NAME' },
    method: { kind: 'string', help: 'adabn: recompute BatchNorm statistics on the target; dann: adversarial domain classifier; pseudo-label: rounds of self-training', choices: ADAPT_METHODS, required: true },
    source: { kind: 'string', help: 'labelled source-domain data, in the model\'s classes (dann and pseudo-label train on it; adabn only scores it)', placeholder: 'SPEC' },
    target: { kind: 'string', help: 'target-domain images; their labels, if any, are never read', placeholder: 'SPEC', required: true },
    'target-test': { kind: 'string', help: 'labelled target-domain test data, scored before, after and at every epoch for the record only', placeholder: 'SPEC' },
    val: { kind: 'string', help: 'source validation for dann and pseudo-label: a fraction held out of --source, "none", or a data spec', default: '0.1', placeholder: 'FRAC|none|SPEC' },
    out: TRAIN_FLAGS.out,
    overwrite: TRAIN_FLAGS.overwrite,
    ...pick(TRAINING),
    epochs: { ...TRAIN_FLAGS.epochs, help: `epochs (default: dann ${ADAPT_TRAIN_DEFAULTS.dann.epochs}, pseudo-label ${ADAPT_TRAIN_DEFAULTS['pseudo-label'].epochs} per round)` },
    'batch-size': { ...TRAIN_FLAGS['batch-size'], help: 'mini-batch size (dann: of each domain)', default: ADAPT_TRAIN_DEFAULTS.dann.batchSize! },
    tradeoff: { kind: 'number', help: 'dann: weight of the domain loss (TLlib\'s trade-off)', min: 0, default: 1 },
    rounds: { kind: 'int', help: 'pseudo-label: rounds of labelling the target and training (--epochs each)', min: 1, default: PSEUDO_LABEL_DEFAULTS.rounds },
    threshold: { kind: 'number', help: 'pseudo-label: least top-class probability for a target image to be labelled (0: rank by confidence only)', min: 0, max: 1, default: PSEUDO_LABEL_DEFAULTS.threshold },
    'max-per-class': { kind: 'int', help: 'pseudo-label: most images per class in a round (default: an equal share of the confident ones)', min: 0, placeholder: 'N' },
    'on-bad-image': TRAIN_FLAGS['on-bad-image'],
    threads: TRAIN_FLAGS.threads,
    quiet: TRAIN_FLAGS.quiet,
  },
  async run({ flags: f }) {
    const t0 = performance.now();
    applyThreads(f.threads);
    if (f.method !== 'adabn' && f.source === undefined) throw new TlcvError('ARGUMENT', `--source is required for --method ${f.method} (it trains on labelled source images)`);
    const method = f.method;
    const options = trainOptionsFrom({ ...f, patience: 0 }, method === 'adabn' ? { augment: 'none' } : { augment: 'none', ...ADAPT_TRAIN_DEFAULTS[method] });
    checkRunFolder(f.out, { overwrite: f.overwrite });
    const log = (m: string): void => console.error(m);
    const how = { onBadImage: f['on-bad-image'], log };
    const loaded = await loadSourceModel(f.from, { ...(f.model === undefined ? {} : { modelName: f.model }), log });
    const model = loaded.model;
    try {
      const classes = loaded.classes;
      // Every image goes through the source model's own record (what its features were learnt
      // with), and the adapted folder records the same: predict and serve see what adapt saw.
      const preprocess = await recordForModel(model, loaded.preprocess, f.target, how);
      const inMemory = (spec: string): Promise<ImageDataset> => loadInMemoryForModel(spec, model, { ...how, preprocess });
      const load = async (spec: string): Promise<ImageDataset> => alignToModelClasses(await inMemory(spec), classes);
      // The target's labels are dropped as it is loaded: nothing after this line can see them.
      const target = withoutLabels(await inMemory(f.target));
      const targetTest = f['target-test'] === undefined ? null : await load(f['target-test']);
      let source: ImageDataset | null = null;
      let sourceVal: ImageDataset | null = null;
      if (f.source !== undefined) {
        const all = await load(f.source);
        // adabn trains nothing: all of the source data is for scoring.
        const split = method === 'adabn' ? { train: all, val: all } : await splitValidation(all, f.val, options.seed, load);
        source = split.train;
        sourceVal = split.val;
      }
      log(`source model: ${loaded.description}; ${method} to ${target.n} target images${targetTest ? `; target test ${targetTest.n} images` : ''}`);
      const progress = f.quiet ? [] : [new Progress({ title: `${method} to ${f.target}` })];
      const r = await adaptModel(model, {
        method,
        source,
        sourceVal,
        target,
        targetTest,
        options,
        dann: { tradeoff: f.tradeoff },
        pseudoLabel: { rounds: f.rounds, threshold: f.threshold, ...(f['max-per-class'] === undefined ? {} : { maxPerClass: f['max-per-class'] }) },
        callbacks: progress,
        log,
      });
      // The report's evaluation: the target test when there is one, else the source validation.
      const scored = targetTest ? { evaluation: r.after.target, evalSet: targetTest } : sourceVal ? { evaluation: r.after.source, evalSet: sourceVal } : {};
      const provenance = { command: 'adapt', from: f.from, data: f.source ?? '', target: f.target, ...(f['target-test'] ? { targetTest: f['target-test'] } : {}), mode: `adapt: ${method}`, method };
      const fit = { history: r.history, bestEpoch: r.history.length, stoppedEarly: false, lrTrace: r.lrTrace };
      const comparison = {
        title: 'Source-only against adapted',
        columns: ['measured on', 'source-only', method],
        rows: [
          ...(r.before.target && r.after.target ? [[`target test (${r.after.target.n} images)`, pct(r.before.target.accuracy), pct(r.after.target.accuracy)]] : []),
          ...(r.before.source && r.after.source ? [[`source ${method === 'adabn' ? 'data' : 'validation'} (${r.after.source.n} images)`, pct(r.before.source.accuracy), pct(r.after.source.accuracy)]] : []),
        ],
      };
      const report = {
        title: `${method}: ${f.from} to ${f.target}`,
        model,
        plan: r.plan,
        options: r.options,
        fit,
        ...scored,
        epochSeconds: r.epochSeconds,
        provenance,
        comparison,
        info: { method, 'target images (unlabelled)': target.n, ...(r.adabn ? { 'BatchNorm layers': r.adabn.layers } : {}) },
      };
      await writeResultFolder(f.out, { classes, preprocess, report });
      const line = scoreLine(r);
      console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s)${line ? `; ${line}` : ''}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
