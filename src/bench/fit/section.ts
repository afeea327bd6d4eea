/**
 * The fit section (issue 22's benchmark): `tlcv fit` at several budgets against every manual
 * `tlcv transfer` mode run with its defaults, and against the PyTorch peer's recipe, on the same
 * training set from the same source model, each scored by `tlcv evaluate` on the same test set.
 * Scenarios: Fashion-MNIST's seed-cnn to 10 and 100 MNIST digits per class, and a generated
 * folder of shape photos (three shapes) from a seed-cnn trained on three other shapes.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LeaderboardEntry } from '../../runs/index.js';
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import { CommandRunner, withModifiers } from '../core/commands.js';
import { peerRecipe } from './peer-recipe.js';
import { fitMarkdown, fitTargets } from './report.js';
import { writeShapeFolder } from './shape-photos.js';
import type { FitBenchConfig, FitScenario, FitScenarioFigures } from './types.js';

/** The manual modes, the default first (`tlcv transfer` without `--mode` fine-tunes). */
export const MANUAL_MODES = ['fine-tune', 'feature-extraction', 'ncm', 'knn', 'probe'] as const;

/**
 * `quick`: the 10-digits scenario at a 1-minute budget; `full`: the three scenarios at 1, 3 and
 * 10 minutes (about an hour on 2 cores).
 *
 * @example
 * const cfg = { ...presetConfig('quick', 2), fit: fitBenchConfig('quick') };
 */
export function fitBenchConfig(preset: Preset): FitBenchConfig {
  const quick = preset === 'quick';
  const digits = (perClass: number): FitScenario => ({ name: `digits, ${perClass} per class`, kind: 'digits', perClass });
  return {
    source: quick ? 'fashion-mnist:train@k=300,seed=1' : 'fashion-mnist:train@k=1000,seed=1',
    sourceEpochs: quick ? 3 : 4,
    digitsTest: 'mnist:test',
    scenarios: quick ? [digits(10)] : [{ name: 'shape photos, 60 per class', kind: 'photos', perClass: 60 }, digits(10), digits(100)],
    budgets: quick ? [60] : [60, 180, 600],
    photos: { sourceClasses: 3, sourcePerClass: 60, classes: 3, trainPerClass: 60, testPerClass: 40, width: 480, height: 360 },
    recipe: { epochs: 25, batch: 4, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1 },
  };
}

interface Setup {
  train: string;
  test: string;
  source: string;
  sourceCommand: string;
}

/** The digit scenarios share one source model, trained when the first needs it. */
async function digitsSetup(runs: CommandRunner, c: FitBenchConfig, s: FitScenario, made: Map<string, Setup>): Promise<Setup> {
  let base = made.get('digits');
  if (base === undefined) {
    const source = runs.path('fm-source');
    const r = await runs.tlcv(['pretrain', '--data', c.source, '--arch', 'seed-cnn', '--epochs', String(c.sourceEpochs), '--lr', '2e-3', '--val', 'none', '--seed', '1', '--out', source]);
    base = { train: '', test: c.digitsTest, source, sourceCommand: r.command };
    made.set('digits', base);
  }
  return { ...base, train: withModifiers('mnist:train', `k=${s.perClass},seed=1`) };
}

/**
 * Target: the first `classes` shapes, its train and test splits from different seeds; source:
 * the next `sourceClasses` shapes, other photos, a seed-cnn at 64 px with pretrain's defaults.
 */
async function photoSetup(runs: CommandRunner, c: FitBenchConfig, s: FitScenario): Promise<Setup> {
  const p = c.photos;
  const size = { width: p.width, height: p.height };
  const target = runs.path('photos');
  await writeShapeFolder(join(target, 'train'), { classes: p.classes, perClass: s.perClass, seed: 1, ...size });
  await writeShapeFolder(join(target, 'test'), { classes: p.classes, perClass: p.testPerClass, seed: 2, ...size });
  const sourcePhotos = await writeShapeFolder(runs.path('source-photos'), { classes: p.sourceClasses, perClass: p.sourcePerClass, seed: 3, first: p.classes, ...size });
  const source = runs.path('photo-source');
  const r = await runs.tlcv(['pretrain', '--data', `folder:${sourcePhotos}`, '--arch', 'seed-cnn', '--input-size', '64', '--val', 'none', '--seed', '1', '--out', source]);
  return { train: `folder:${target}:train`, test: `folder:${target}:test`, source, sourceCommand: r.command };
}

async function run(ctx: BenchContext, c: FitBenchConfig): Promise<void> {
  const runs = new CommandRunner(join(ctx.dir, 'fit'), ctx.cfg.threads, ctx.log);
  mkdirSync(runs.dir, { recursive: true });
  ctx.report.fit = { scenarios: [] };
  const made = new Map<string, Setup>();
  for (const [i, s] of c.scenarios.entries()) {
    const setup = s.kind === 'digits' ? await digitsSetup(runs, c, s, made) : await photoSetup(runs, c, s);
    // Paths as the commands show them: the scratch folder as runs/.
    const shown = (spec: string): string => spec.split(runs.dir).join('runs');
    const row: FitScenarioFigures = { name: s.name, train: shown(setup.train), test: shown(setup.test), sourceCommand: setup.sourceCommand, manual: [], fits: [], peer: null };
    ctx.report.fit.scenarios.push(row);
    for (const mode of MANUAL_MODES) {
      const out = runs.path(`s${i}-${mode}`);
      const r = await runs.tlcv(['transfer', '--model', setup.source, '--data', setup.train, '--mode', mode, '--out', out]);
      const ev = await runs.accuracy(out, setup.test);
      row.manual.push({ mode, accuracy: ev.accuracy, seconds: r.seconds, command: r.command });
      ctx.log(`  ${s.name}, ${mode}: ${(ev.accuracy * 100).toFixed(2)}% in ${r.seconds.toFixed(1)}s`);
    }
    for (const budget of c.budgets) {
      const out = runs.path(`s${i}-fit-${budget}`);
      const r = await runs.tlcv(['fit', '--data', setup.train, '--model', setup.source, '--budget', `${budget}s`, '--out', out]);
      const json = JSON.parse(readFileSync(join(out, 'fit.json'), 'utf8')) as { seconds: number; kept: LeaderboardEntry; leaderboard: LeaderboardEntry[] };
      const ev = await runs.accuracy(out, setup.test);
      const leaderboard = json.leaderboard.map((e) => ({ ...e, backbone: shown(e.backbone) }));
      row.fits.push({ budget, accuracy: ev.accuracy, seconds: r.seconds, fitSeconds: json.seconds, kept: json.kept.strategy, leaderboard, command: r.command });
      ctx.log(`  ${s.name}, fit --budget ${budget}s: ${(ev.accuracy * 100).toFixed(2)}% in ${r.seconds.toFixed(1)}s (${json.kept.strategy})`);
    }
    row.peer = await peerRecipe(ctx, c, setup.source, setup.train, setup.test, `s${i}`);
    ctx.log(`  ${s.name}, PyTorch recipe: ${(row.peer.accuracy * 100).toFixed(2)}% in ${row.peer.seconds.toFixed(1)}s`);
  }
}

export const section: BenchSection<'fit'> = {
  name: 'fit',
  describe: 'tlcv fit at 1, 3 and 10 minutes against every manual mode and a PyTorch recipe',
  processes: 'own',
  inPresets: false,
  config: fitBenchConfig,
  empty: null,
  run,
  markdown: fitMarkdown,
  targets: fitTargets,
};
