import { createModel, getModelConfig } from '../models/index.js';
import { TlcvError } from '../errors.js';
import { manualSeed } from '../tensor/index.js';
import { runTraining, splitValidation } from '../train/run.js';
import { loadDataset, conformDataset } from '../data/index.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';
import { TRAIN_FLAGS, trainOptionsFrom } from './train-flags.js';
import { applyThreads, checkOutDir, pct } from './common.js';
import { parseInputSize } from './input-size.js';

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  usage: 'tlcv pretrain --data SPEC --model NAME --out DIR [flags]',
  summary: 'Train a source model from scratch on a source dataset.',
  flags: {
    model: { kind: 'string', help: 'architecture from `tlcv models`', default: 'seed-cnn', placeholder: 'NAME' },
    'input-size': { kind: 'string', help: 'resize images to HxW (default: the data size, or the model minimum)', placeholder: 'HxW' },
    alpha: { kind: 'number', help: 'MobileNetV2 width multiplier', min: 0, exclusiveMin: true, placeholder: 'A' },
    ...TRAIN_FLAGS,
  },
  async run(p) {
    applyThreads(p);
    const spec = requireFlag(p, 'data', 'pretrain');
    const out = requireFlag(p, 'out', 'pretrain');
    const options = trainOptionsFrom(p, { augment: 'none' });
    checkOutDir(out, p.flags.resume === true);
    const onBadImage = p.flags['on-bad-image'] as 'error' | 'skip';
    const log = (m: string): void => console.error(m);
    // Validate the model name and input size before reading any data.
    const modelName = p.flags.model as string;
    const [, minH, minW] = getModelConfig(modelName).minInputSize;
    const asked = p.flags['input-size'] === undefined ? null : parseInputSize(p.flags['input-size'], [minH, minW]);
    if (asked && (asked[0] < minH || asked[1] < minW)) {
      throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for ${modelName}, got ${JSON.stringify(p.flags['input-size'])}`);
    }
    const raw = await loadDataset(spec, { onBadImage, log });
    // Data smaller than the model's minimum is upsampled to it, as --help says.
    const size: [number, number] = asked ?? [Math.max(raw.height, minH), Math.max(raw.width, minW)];
    // libtorch seeds its generator from the OS: without this, --seed would not fix the initial weights.
    manualSeed(options.seed);
    const model = createModel(modelName, {
      numClasses: raw.classes.length,
      inChannels: raw.channels,
      inputSize: size,
      ...(typeof p.flags.alpha === 'number' ? { alpha: p.flags.alpha } : {}),
    });
    const data = conformDataset(raw, { channels: raw.channels, height: size[0], width: size[1] });
    const split = await splitValidation(data, p.flags.val as string | undefined, options.seed, async (s) =>
      conformDataset(await loadDataset(s, { onBadImage, log }), { channels: raw.channels, height: size[0], width: size[1] }),
    );
    try {
      const r = await runTraining({
        model,
        train: split.train,
        val: split.val,
        options,
        out,
        frozenStages: 0,
        resume: p.flags.resume === true,
        quiet: p.flags.quiet === true,
        title: `pretrain ${modelName} on ${spec}`,
        provenance: { command: 'pretrain', data: spec, mode: 'scratch' },
      });
      const ev = r.evaluation;
      console.log(`wrote ${out} (${r.seconds.toFixed(1)}s)${ev ? `; ${split.val ? 'validation' : 'training'} accuracy ${pct(ev.accuracy)}` : ''}`);
    } finally {
      model.dispose();
    }
    return 0;
  },
});
