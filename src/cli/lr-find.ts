import { TlcvError } from '../errors.js';
import { lrFindRun } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';
import { parseMemorySize } from './train-flags.js';

export const lrFindCommand = defineCommand({
  name: 'lr-find',
  usage: 'tlcv lr-find --model NAME|DIR|FILE --data SPEC [--mode fine-tune|feature-extraction|scratch] [--out DIR]',
  flags: {
    model: { kind: 'string', help: 'the model the run will train: a model folder, a weights file (with --arch) or a zoo name; for --mode scratch an architecture', placeholder: 'NAME|DIR|FILE', required: true },
    arch: { kind: 'string', help: 'the architecture of a weights file', placeholder: 'NAME' },
    data: { kind: 'string', help: 'training data spec', placeholder: 'SPEC', required: true },
    mode: { kind: 'string', help: 'what the run will do: which layers the sweep trains', choices: ['fine-tune', 'feature-extraction', 'scratch'], default: 'fine-tune' },
    val: { kind: 'string', help: 'the validation the run will hold out (the sweep trains on the rest)', default: '0.1', placeholder: 'FRAC|none|SPEC' },
    out: { kind: 'string', help: 'write lr-find.json and report.html (the loss against the rate) here', placeholder: 'DIR' },
    iterations: { kind: 'int', help: 'steps of the sweep (fastai: 100)', min: 2, default: 100, placeholder: 'N' },
    'start-lr': { kind: 'number', help: 'first learning rate', min: 0, exclusiveMin: true, default: 1e-7, placeholder: 'X' },
    'end-lr': { kind: 'number', help: 'last learning rate', min: 0, exclusiveMin: true, default: 10, placeholder: 'X' },
    'batch-size': { kind: 'int', help: 'mini-batch size (default: automatic, as the run would choose)', min: 1, placeholder: 'B' },
    'weight-decay': { kind: 'number', help: 'weight decay', min: 0, placeholder: 'X' },
    'max-memory': { kind: 'string', help: 'peak memory for the automatic batch (e.g. 2.5G)', placeholder: 'SIZE' },
    seed: { kind: 'int', help: 'random seed', min: 0, default: 0 },
    json: { kind: 'bool', help: 'print one JSON object on stdout' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    if (!(f['end-lr'] > f['start-lr'])) throw new TlcvError('ARGUMENT', `--end-lr ${f['end-lr']} must be above --start-lr ${f['start-lr']}`);
    const maxMemory = parseMemorySize(f['max-memory']);
    const mode = f.mode as 'fine-tune' | 'feature-extraction' | 'scratch';
    const r = await lrFindRun(f.model, f.data, {
      mode,
      ...(f.arch === undefined ? {} : { arch: f.arch }),
      val: f.val,
      options: { seed: f.seed, ...(f['batch-size'] === undefined ? {} : { batchSize: f['batch-size'] }), ...(f['weight-decay'] === undefined ? {} : { weightDecay: f['weight-decay'] }) },
      iterations: f.iterations,
      startLr: f['start-lr'],
      endLr: f['end-lr'],
      ...(maxMemory === undefined ? {} : { maxMemory }),
      ...(f.out === undefined ? {} : { out: f.out }),
      log: (line) => console.error(line),
    });
    if (f.json) console.log(JSON.stringify({ suggestion: r.suggestion, minimum: r.minimum, diverged: r.diverged, batchSize: r.batchSize, steps: r.lrs.length, seconds: r.seconds }));
    else console.log(`suggested learning rate ${r.suggestion.toExponential(2)} (valley; lowest loss at ${r.minimum.toExponential(2)}), ${r.lrs.length} steps at batch ${r.batchSize}${f.out === undefined ? '' : `; the plot is in ${f.out}/report.html`}`);
    return 0;
  },
});
