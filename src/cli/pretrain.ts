import { TlcvError } from '../errors.js';
import { getModelConfig } from '../models/index.js';
import { checkRunFolder } from '../io/run-folder.js';
import { Learner, folderRunCallbacks, prepareScratch } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, folderFlags, trainOptionsFrom } from './train-flags.js';
import { applyThreads, pct } from './common.js';

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  usage: 'tlcv pretrain --data SPEC --model NAME --out DIR [flags]',
  flags: {
    model: { kind: 'string', help: 'architecture from `tlcv models`', default: 'seed-cnn', placeholder: 'NAME' },
    alpha: { kind: 'number', help: 'MobileNetV2 width multiplier', min: 0, exclusiveMin: true, placeholder: 'A' },
    ...TRAIN_FLAGS,
  },
  async run({ flags: f }) {
    const t0 = performance.now();
    applyThreads(f.threads);
    const options = trainOptionsFrom(f, { augment: 'none' });
    checkRunFolder(f.out, f);
    const log = (m: string): void => console.error(m);
    // The model name and input size are checked before any data is read.
    const [, minH, minW] = getModelConfig(f.model).minInputSize;
    const choices = dataChoicesFrom(f, log);
    if (choices.inputSize && (choices.inputSize[0] < minH || choices.inputSize[1] < minW)) {
      throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for ${f.model}, got ${JSON.stringify(f['input-size'])}`);
    }
    const { model, train, val, preprocess } = await prepareScratch({ data: f.data, model: f.model, ...(f.alpha === undefined ? {} : { alpha: f.alpha }), val: f.val, seed: options.seed, ...choices });
    try {
      const provenance = { command: 'pretrain', data: f.data, mode: 'scratch' };
      const run = folderRunCallbacks({ ...folderFlags(f), title: `pretrain ${f.model} on ${f.data}`, provenance, evalSet: val ?? train });
      const learn = new Learner({ model, train, val, preprocess, options, callbacks: run.callbacks, quiet: true });
      await learn.fit();
      learn.save(f.out, { provenance });
      const ev = run.report.evaluation;
      console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s)${ev ? `; ${val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
