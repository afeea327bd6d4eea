import { TlcvError } from '../errors.js';
import { getModelConfig } from '../models/index.js';
import { checkRunFolder } from '../io/run-folder.js';
import { DataParallel, Learner, folderRunCallbacks, prepareScratch, type DataChoices, type TrainOptions } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, folderFlags, trainOptionsFrom, type TrainFlags } from './train-flags.js';
import { pct } from './common.js';
import { DIST_FLAGS, runDataParallel, type RunRole } from './data-parallel.js';

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  usage: 'tlcv pretrain --data SPEC --model NAME --out DIR [--nproc N] [flags]',
  flags: {
    model: { kind: 'string', help: 'architecture from `tlcv models`', default: 'seed-cnn', placeholder: 'NAME' },
    alpha: { kind: 'number', help: 'MobileNetV2 width multiplier', min: 0, exclusiveMin: true, placeholder: 'A' },
    ...TRAIN_FLAGS,
    ...DIST_FLAGS,
  },
  async run({ flags: f, argv }) {
    const t0 = performance.now();
    const options = trainOptionsFrom(f, { augment: 'none' });
    // The model name and input size are checked before any data is read.
    const [, minH, minW] = getModelConfig(f.model).minInputSize;
    const choices = dataChoicesFrom(f, () => undefined);
    if (choices.inputSize && (choices.inputSize[0] < minH || choices.inputSize[1] < minW)) {
      throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for ${f.model}, got ${JSON.stringify(f['input-size'])}`);
    }
    const run = { model: f.model, alpha: f.alpha, options, choices, t0 };
    return runDataParallel('pretrain', argv, f, () => checkRunFolder(f.out, f), (role) => pretrain(f, run, role));
  },
});

interface PretrainRun {
  model: string;
  alpha: number | undefined;
  options: TrainOptions;
  choices: DataChoices;
  t0: number;
}

async function pretrain(f: TrainFlags, r: PretrainRun, { group, isMain }: RunRole): Promise<number> {
  const log = (m: string): void => void (isMain && console.error(m));
  const { model, train, val, preprocess } = await prepareScratch({ data: f.data, model: r.model, ...(r.alpha === undefined ? {} : { alpha: r.alpha }), val: f.val, seed: r.options.seed, ...r.choices, log });
  try {
    const provenance = { command: 'pretrain', data: f.data, mode: 'scratch' };
    const run = folderRunCallbacks({ ...folderFlags(f, isMain), title: `pretrain ${r.model} on ${f.data}`, provenance, evalSet: val ?? train });
    const callbacks = group === null ? run.callbacks : [...run.callbacks, new DataParallel(group)];
    const learn = new Learner({ model, train, val, preprocess, options: r.options, callbacks, quiet: true });
    await learn.fit();
    if (!isMain) return 0;
    learn.save(f.out, { provenance });
    const ev = run.report.evaluation;
    console.log(`wrote ${f.out} (${((performance.now() - r.t0) / 1000).toFixed(1)}s)${ev ? `; ${val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
  } finally {
    model.dispose();
  }
  return 0;
}
