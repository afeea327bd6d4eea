import { TlcvError } from '../errors.js';
import { getModelConfig } from '../models/index.js';
import { checkRunFolder } from '../io/run-folder.js';
import { describeCalibration, load } from '../runs/index.js';
import { ModelEma } from '../train/index.js';
import { defineCommand } from './command.js';
import { TRAIN_FLAGS, dataChoicesFrom, parseMemorySize, trainOptionsFrom, unknownFrom } from './train-flags.js';
import { pct, renamedFlag } from './common.js';
import { DIST_FLAGS, runDataParallel } from './data-parallel.js';

export const pretrainCommand = defineCommand({
  name: 'pretrain',
  usage: 'tlcv pretrain --data SPEC --arch NAME --out DIR [--nproc N] [flags]',
  flags: {
    arch: { kind: 'string', help: 'architecture from `tlcv models` (default seed-cnn)', placeholder: 'NAME' },
    model: { kind: 'string', help: 'the old spelling of --arch (works until the next release)', placeholder: 'NAME' },
    alpha: { kind: 'number', help: 'MobileNetV2 width multiplier', min: 0, exclusiveMin: true, placeholder: 'A' },
    ...TRAIN_FLAGS,
    ...DIST_FLAGS,
  },
  async run({ flags: f, argv }) {
    const t0 = performance.now();
    if (f.model !== undefined) {
      if (f.arch !== undefined) throw new TlcvError('ARGUMENT', `--model ${f.model} --arch ${f.arch}: give the architecture once, with --arch`);
      renamedFlag('pretrain', '--model NAME', '--arch NAME');
    }
    const arch = f.arch ?? f.model ?? 'seed-cnn';
    const options = trainOptionsFrom(f, { augment: 'none' });
    const maxMemory = parseMemorySize(f['max-memory']);
    // The architecture and input size are checked before any data is read.
    const [, minH, minW] = getModelConfig(arch).minInputSize;
    const choices = dataChoicesFrom(f, () => undefined);
    if (choices.inputSize && (choices.inputSize[0] < minH || choices.inputSize[1] < minW)) {
      throw new TlcvError('ARGUMENT', `--input-size: expected at least ${minH}x${minW} for ${arch}, got ${JSON.stringify(f['input-size'])}`);
    }
    return runDataParallel('pretrain', argv, f, () => checkRunFolder(f.out, f), async ({ group, isMain }) => {
      const log = (m: string): void => void (isMain && console.error(m));
      const m = await load(arch, { pretrained: false, ...(f.alpha === undefined ? {} : { alpha: f.alpha }) });
      try {
        const r = await m.fit(f.data, { ...unknownFrom(f), options, val: f.val, choices: { ...choices, log }, out: { dir: f.out, resume: f.resume, overwrite: f.overwrite, checkpointEvery: f['checkpoint-every'], keepCheckpoint: f['keep-checkpoint'] }, group, quiet: f.quiet, ...(f.ema ? { callbacks: [new ModelEma()] } : {}), ...(maxMemory === undefined ? {} : { maxMemory }) });
        if (!isMain) return 0;
        const ev = r.evaluation;
        console.log(`wrote ${f.out} (${((performance.now() - t0) / 1000).toFixed(1)}s)${ev ? `; ${r.evaluatedOn} accuracy ${pct(ev.accuracy)}` : ''}`);
        if (r.calibration) console.log(describeCalibration(r.calibration));
      } finally {
        m.dispose();
      }
      return 0;
    });
  },
});
