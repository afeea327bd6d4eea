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
import { CommandRunner, adaptAccuracies, withModifiers } from './scenario-runs.js';

export interface AdaptBenchConfig {
  /** The source domain, and the epochs each source model trains on it. */
  source: string;
  sourceEpochs: number;
  /** The labelled source images dann and pseudo-label train on (a subset keeps each run short). */
  sourceTrain: string;
  /** Split in halves (seed 1): the unlabelled target and the labelled target test set. */
  targetPool: string;
  /** `@shift=` values, one scenario each. */
  shifts: string[];
  /** The model adabn adapts (seed-cnn has no BatchNorm). */
  batchNormModel: string;
  dann: { epochs: number };
  pseudoLabel: { rounds: number; epochs: number; threshold: number };
}

export interface AdaptCell {
  /** seed-cnn source-only, dann, pseudo-label; then the BatchNorm model's source-only and adabn. */
  method: string;
  model: string;
  accuracy: number;
  seconds: number;
  command: string;
}

export interface AdaptRow {
  shift: string;
  target: string;
  targetTest: string;
  cells: AdaptCell[];
}

export interface AdaptFigures {
  source: string;
  sourceCommands: string[];
  rows: AdaptRow[];
}

export async function adaptSection(ctx: BenchContext, c: AdaptBenchConfig): Promise<void> {
  const runs = new CommandRunner(join(ctx.dir, 'adapt'), ctx.cfg.threads, ctx.log);
  mkdirSync(runs.dir, { recursive: true });
  const models = ['seed-cnn', c.batchNormModel];
  const sources: Record<string, string> = {};
  const sourceCommands: string[] = [];
  for (const model of models) {
    sources[model] = runs.path(`mnist-${model}`);
    sourceCommands.push((await runs.tlcv(['pretrain', '--data', c.source, '--model', model, '--epochs', String(c.sourceEpochs), '--val', 'none', '--seed', '1', '--out', sources[model]!])).command);
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
      const r = await runs.tlcv(['adapt', '--from', sources[model]!, '--source', c.sourceTrain, '--target', target, '--target-test', targetTest, '--method', method, ...flags, '--out', runs.path(`${method}-${model}-${name}`)]);
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

/** Points the best method gains over its model's source-only accuracy, per scenario. */
export function bestGains(f: AdaptFigures): { shift: string; method: string; points: number }[] {
  return f.rows.map((row) => {
    let best = { shift: row.shift, method: '', points: -Infinity };
    for (const cell of row.cells) {
      if (cell.method === 'source-only') continue;
      const base = row.cells.find((x) => x.method === 'source-only' && x.model === cell.model);
      const points = (cell.accuracy - (base?.accuracy ?? NaN)) * 100;
      if (points > best.points) best = { shift: row.shift, method: `${cell.method} (${cell.model})`, points };
    }
    return best;
  });
}
