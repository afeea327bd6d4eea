import { TlcvError } from '../errors.js';
import { getModelConfig } from '../models/index.js';
import { checkRunFolder } from '../io/run-folder.js';
import { Learner, folderRunCallbacks, prepareScratch } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, folderFlags, trainOptionsFrom } from './train-flags.js';
import { applyThreads, pct } from './common.js';
import { parseInputSize } from './input-size.js';

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  usage: 'tlcv pretrain --data SPEC --model NAME --out DIR [flags]',
  flags: {
    model: { kind: 'string', help: 'architecture from `tlcv models`', default: 'seed-cnn', placeholder: 'NAME' },
    'input-size': { kind: 'string', help: 'resize images to HxW (default: the data size, or the model minimum)', placeholder: 'HxW' },
    alpha: { kind: 'number', help: 'MobileNetV2 width multiplier', min: 0, exclusiveMin: true, placeholder: 'A' },
    ...TRAIN_FLAGS,
  },
  async run({ flags: f }) {
    const t0 = performance.now();
    applyThreads(f.threads);
    const options = trainOptionsFrom(f, { augment: 'none' });
    checkRunFolder(f.out, f);
    // The model name and input size are checked before any data is read.
    const [, minH, minW] = getModelConfig(f.model).minInputSize;
    const inputSize = f['input-size'] === undefined ? null : parseInputSize(f['input-size'], [minH, minW]);
    if (inputSize && (inputSize[0] < minH || inputSize[1] < minW)) {
      throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for ${f.model}, got ${JSON.stringify(f['input-size'])}`);
    }
    const log = (m: string): void => console.error(m);
    const { model, train, val } = await prepareScratch({ data: f.data, model: f.model, inputSize, ...(f.alpha === undefined ? {} : { alpha: f.alpha }), val: f.val, seed: options.seed, onBadImage: f['on-bad-image'], log });
    try {
      const provenance = { command: 'pretrain', data: f.data, mode: 'scratch' };
      const run = folderRunCallbacks({ ...folderFlags(f), title: `pretrain ${f.model} on ${f.data}`, provenance, evalSet: val ?? train });
      const learn = new Learner({ model, train, val, options, callbacks: run.callbacks, quiet: true });
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
