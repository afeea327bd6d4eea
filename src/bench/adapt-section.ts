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
import type { BenchContext } from './context.js';
import type { AdaptBenchConfig, AdaptFigures, AdaptRow } from './scenario-jobs.js';
import { CommandRunner, adaptAccuracies, withModifiers } from './scenario-runs.js';

export async function adaptSection(ctx: BenchContext, c: AdaptBenchConfig): Promise<void> {
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
