/**
 * The adaptation section: digit models trained on MNIST, adapted without labels to shifted
 * copies of MNIST's test digits (rotated, inverted, noisy, translated). Half of the shifted
 * digits are the unlabelled target, the other half the labelled target test set. Each figure
 * is the `tlcv` command a user runs: source-only is `tlcv evaluate` of the source model on the
 * target test set; each method is `tlcv adapt` (dann and pseudo-label on seed-cnn, adabn on a
 * model with BatchNorm).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../../errors.js';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import { CommandRunner, withModifiers } from '../core/commands.js';
import { adaptMarkdown, adaptTargets } from './report.js';
import type { AdaptBenchConfig, AdaptFigures, AdaptRow } from './types.js';

/**
 * The section's settings: `quick` runs three of the four shifts and fewer dann epochs, which
 * still shows each method's effect.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), adapt: adaptBenchConfig('full') };
 */
export function adaptBenchConfig(preset: Preset): AdaptBenchConfig {
  const quick = preset === 'quick';
  return {
    source: 'mnist:train',
    sourceEpochs: 3,
    sourceTrain: 'mnist:train@k=200,seed=1',
    targetPool: 'mnist:test',
    shifts: quick ? ['rotate:45', 'noise:0.5', 'invert'] : ['rotate:45', 'noise:0.5', 'invert', 'translate:0.25'],
    batchNormModel: 'resnet18',
    dann: { epochs: quick ? 10 : 20 },
    pseudoLabel: { rounds: 3, epochs: 2, threshold: 0 },
  };
}

/** The target-test accuracies `tlcv adapt` prints: "target test accuracy A% (source-only) -> B% (method)". */
export function adaptAccuracies(stdout: string): { sourceOnly: number; adapted: number } {
  const m = /target test accuracy (\d+\.\d+)% \(source-only\) -> (\d+\.\d+)%/.exec(stdout);
  if (m === null) throw new TlcvError('TRAINING', `tlcv adapt printed no target test accuracies: ${stdout.trim().slice(-200)}`);
  return { sourceOnly: Number(m[1]) / 100, adapted: Number(m[2]) / 100 };
}

async function run(ctx: BenchContext, c: AdaptBenchConfig): Promise<void> {
  const runs = new CommandRunner(join(ctx.dir, 'adapt'), ctx.cfg.threads, ctx.log);
  mkdirSync(runs.dir, { recursive: true });
  const models = ['seed-cnn', c.batchNormModel];
  const sources: Record<string, string> = {};
  const sourceCommands: string[] = [];
  for (const model of models) {
    sources[model] = runs.path(`mnist-${model}`);
    sourceCommands.push((await runs.tlcv(['pretrain', '--data', c.source, '--arch', model, '--epochs', String(c.sourceEpochs), '--val', 'none', '--seed', '1', '--out', sources[model]!])).command);
  }
  const figures: AdaptFigures = { source: c.source, sourceCommands, rows: [] };
  ctx.report.adapt = figures;
  for (const shift of c.shifts) {
    const name = shift.split(':')[0]!;
    const target = withModifiers(c.targetPool, `frac=0.5,seed=1,shift=${shift}`);
    const targetTest = withModifiers(c.targetPool, `frac=0.5,seed=1,rest,shift=${shift}`);
    const row: AdaptRow = { shift, target, targetTest, cells: [] };
    figures.rows.push(row);
    const adapt = async (model: string, method: string, flags: string[]): Promise<void> => {
      const r = await runs.tlcv(['adapt', '--model', sources[model]!, '--source', c.sourceTrain, '--target', target, '--target-test', targetTest, '--method', method, ...flags, '--out', runs.path(`${method}-${model}-${name}`)]);
      row.cells.push({ method, model, accuracy: adaptAccuracies(r.stdout).adapted, seconds: r.seconds, command: r.command });
    };
    for (const model of models) {
      const t0 = performance.now();
      const e = await runs.accuracy(sources[model]!, targetTest);
      row.cells.push({ method: 'source-only', model, accuracy: e.accuracy, seconds: (performance.now() - t0) / 1000, command: e.command });
      if (model === 'seed-cnn') {
        await adapt(model, 'dann', ['--epochs', String(c.dann.epochs)]);
        const p = c.pseudoLabel;
        await adapt(model, 'pseudo-label', ['--rounds', String(p.rounds), '--epochs', String(p.epochs), '--threshold', String(p.threshold)]);
      } else {
        await adapt(model, 'adabn', []);
      }
    }
    ctx.log(`  ${shift}: ${row.cells.map((x) => `${x.model} ${x.method} ${(x.accuracy * 100).toFixed(2)}%`).join(', ')}`);
  }
}

export const section: BenchSection<'adapt'> = {
  name: 'adapt',
  describe: 'adabn, dann, pseudo-label on shifted digits, as tlcv commands',
  processes: 'own',
  inPresets: false,
  config: adaptBenchConfig,
  empty: null,
  run,
  markdown: adaptMarkdown,
  targets: adaptTargets,
};
