import { existsSync, readdirSync } from 'node:fs';
import { TlcvError } from '../errors.js';
import { fit } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads, pct } from './common.js';
import { parseMemorySize } from './train-flags.js';

/**
 * A wall-time budget: seconds, or with a unit (90s, 5m, 1.5h).
 *
 * @example
 * parseBudget('5m'); // 300
 */
export function parseBudget(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$/i.exec(raw);
  const unit = { s: 1, m: 60, min: 60, h: 3600 }[(m?.[2] ?? 's').toLowerCase() as 's' | 'm' | 'min' | 'h'];
  const seconds = m ? Number(m[1]) * unit : NaN;
  if (!(seconds >= 1)) throw new TlcvError('ARGUMENT', `--budget: expected a time of at least 1s such as 90s, 5m or 1h, got ${JSON.stringify(raw)}`);
  return seconds;
}

export const fitCommand = defineCommand({
  name: 'fit',
  usage: 'tlcv fit --data SPEC [--model NAME|DIR|FILE|auto] [--budget 5m] --out DIR',
  flags: {
    data: { kind: 'string', help: 'labelled training data spec (folder:DIR, mnist:train@k=10, ...)', placeholder: 'SPEC', required: true },
    model: {
      kind: 'string',
      help: 'what to start from: auto (pretrained weights already in the weights cache, else seed-cnn from scratch), a model folder, a weights file (with --arch) or a zoo name',
      default: 'auto',
      placeholder: 'NAME|DIR|FILE|auto',
    },
    arch: { kind: 'string', help: 'the architecture of a weights file given as --model', placeholder: 'NAME' },
    budget: { kind: 'string', help: 'wall time for the whole fit (e.g. 90s, 5m, 1h); it ends within 10% of it', default: '5m', placeholder: 'TIME' },
    out: { kind: 'string', help: 'the model folder to write (with fit.json and report.md: the leaderboard)', placeholder: 'DIR', required: true },
    overwrite: { kind: 'bool', help: 'replace what --out holds' },
    seed: { kind: 'int', help: 'random seed (the validation split and every run)', min: 0, default: 0 },
    'max-memory': { kind: 'string', help: 'peak memory for the automatic batch (e.g. 2.5G)', placeholder: 'SIZE' },
    'on-bad-image': { kind: 'string', help: 'unreadable images in folders', choices: ['error', 'skip'], default: 'error' },
    threads: { kind: 'int', help: 'CPU threads (default: every core)', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const budget = parseBudget(f.budget);
    const maxMemory = parseMemorySize(f['max-memory']);
    if (existsSync(f.out) && readdirSync(f.out).length > 0 && !f.overwrite) throw new TlcvError('FILE', `--out ${f.out} is not empty: give another folder or --overwrite`);
    // Ctrl-C: no further rung starts, a training rung stops at its epoch's end, the best so far is written. A second one quits.
    const stop = new AbortController();
    const onSignal = (): void => {
      if (stop.signal.aborted) process.exit(130);
      console.error('fit: interrupted: finishing the current epoch, then writing the best model so far (Ctrl-C again to quit now)');
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    try {
      const r = await fit(f.data, {
        model: f.model,
        ...(f.arch === undefined ? {} : { arch: f.arch }),
        budget,
        // The budget counts from the process's start (performance.now() is 0 there), as the user's stopwatch does.
        start: 0,
        out: f.out,
        seed: f.seed,
        choices: { onBadImage: f['on-bad-image'] },
        ...(maxMemory === undefined ? {} : { maxMemory }),
        signal: stop.signal,
        log: (line) => console.error(line),
      });
      r.model?.dispose();
      if (r.kept === null) throw new TlcvError('TRAINING', `fit: no rung finished within ${f.budget}: give a larger --budget (the leaderboard is in ${f.out}/fit.json)`);
      console.log(`wrote ${f.out} in ${r.seconds.toFixed(1)}s of ${budget}s: ${r.kept.strategy} on ${r.kept.backbone}, validation accuracy ${pct(r.kept.score!)} (leaderboard in ${f.out}/report.md)`);
      return r.interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
});
