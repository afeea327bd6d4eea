// The fit bench section (issue 22's benchmark) without its hour of runs: its settings, the
// report it renders from figures, and the three targets per budget, met and missed; and the
// PyTorch recipe it compares against, run for real on a few digits from a seed-cnn tlcv wrote.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTargets, renderMarkdown, type BenchReport } from '../src/bench/index.js';
import { MANUAL_MODES, fitBenchConfig } from '../src/bench/fit/section.js';
import { peerRecipe, recipeName } from '../src/bench/fit/peer-recipe.js';
import type { FitFigures, FitRow } from '../src/bench/fit/types.js';
import type { BenchContext } from '../src/bench/core/section.js';
import { liveTensors } from '../src/tensor/index.js';
import { runCli } from './helpers/cli.js';
import { PEER_PYTHON } from './helpers/peer.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-bench-fit-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('the presets: quick is one scenario at one minute, full the issue\'s three scenarios at 1, 3 and 10 minutes', () => {
  const quick = fitBenchConfig('quick');
  assert.deepEqual(quick.budgets, [60]);
  assert.deepEqual(quick.scenarios.map((s) => s.name), ['digits, 10 per class']);
  const full = fitBenchConfig('full');
  assert.deepEqual(full.budgets, [60, 180, 600]);
  assert.deepEqual(full.scenarios.map((s) => [s.kind, s.perClass]), [['photos', 60], ['digits', 10], ['digits', 100]]);
  assert.equal(MANUAL_MODES[0], 'fine-tune', 'the default mode first');
});

const fitRow = (budget: number, accuracy: number, seconds: number): FitRow => ({
  budget,
  accuracy,
  seconds,
  fitSeconds: seconds - 2,
  kept: 'probe',
  leaderboard: [
    { strategy: 'ncm', backbone: 'source', score: 0.7, seconds: 3, predicted: null, status: 'done' },
    { strategy: 'probe', backbone: 'source', score: 0.8, seconds: 4, predicted: 5, status: 'done' },
    { strategy: 'fine-tune, longer', backbone: 'source', score: null, seconds: 0, predicted: 400, status: 'skipped', note: 'would take about 400s' },
  ],
  command: `tlcv fit --data mnist:train@k=10,seed=1 --model runs/fm-source --budget ${budget}s --out runs/s0-fit-${budget}`,
});

test("issue 22's targets follow from the figures: best manual mode, the default mode, the budget", () => {
  const manual = (mode: string, accuracy: number): FitFigures['scenarios'][number]['manual'][number] => ({ mode, accuracy, seconds: 20, command: `tlcv transfer --mode ${mode}` });
  const fit: FitFigures = {
    scenarios: [
      {
        name: 'digits, 10 per class',
        train: 'mnist:train@k=10,seed=1',
        test: 'mnist:test',
        sourceCommand: 'tlcv pretrain',
        manual: [manual('fine-tune', 0.8), manual('feature-extraction', 0.7), manual('probe', 0.86)],
        fits: [fitRow(60, 0.855, 64), fitRow(180, 0.84, 200)],
        peer: { recipe: recipeName(fitBenchConfig('quick').recipe), accuracy: 0.83, seconds: 9 },
      },
    ],
  };
  const machine = { cpu: 'x', cores: 2, threads: 2, loadAverageStart: [0, 0, 0], loadAverageEnd: [0, 0, 0], node: 'v20', torch: null, ompWaitPolicy: null, tlcvAutoPlan: null };
  const r: BenchReport = { command: 'tlcv bench --only fit', startedAt: '', seconds: 1, machine, config: {}, throughput: [], gemm: null, transfer: [], precision: null, memory: null, tfjs: null, fit, targets: [], errors: {} };
  const targets = checkTargets(r);
  const at = (budget: number, what: string): { met: boolean | null; measured: string } => targets.find((t) => t.name.startsWith(`22. fit --budget ${budget}s`) && t.name.includes(what))!;
  assert.equal(at(60, 'best manual mode (probe)').met, true, '0.5 points behind');
  assert.equal(at(60, 'best manual mode').measured, '-0.50 points');
  assert.equal(at(60, 'default mode (fine-tune)').met, true);
  assert.equal(at(60, 'wall time').met, true, '64 s of 66');
  assert.equal(at(180, 'best manual mode').met, false, '2 points behind');
  assert.equal(at(180, 'wall time').met, false, '200 s of 198');
  const md = renderMarkdown({ ...r, targets });
  assert.match(md, /\| transfer --mode fine-tune \(the default\) \| 80\.00% \| 20\.0 s \| `tlcv transfer --mode fine-tune` \|/);
  assert.match(md, /\| fit --budget 60s \(kept probe\) \| 85\.50% \| 64\.0 s \(fit 62\.0 s\) \|/);
  assert.match(md, /\| PyTorch tutorial fine-tune \(SGD lr 0\.001, momentum 0\.9, StepLR 7\/0\.1, 25 epochs, batch 4\) \| 83\.00% \|/);
  assert.match(md, /\| probe \| source \| 80\.00% \| 4\.0 s \| kept \|/);
  assert.match(md, /\| fine-tune, longer \| source \| - \| 0\.0 s \| skipped: would take about 400s \|/);
});

test('the PyTorch recipe trains from the same source folder and scores the same test digits', async () => {
  const source = join(root, 'source');
  const r = runCli(['pretrain', '--data', 'fashion-mnist:train@k=20,seed=1', '--arch', 'seed-cnn', '--epochs', '1', '--val', 'none', '--out', source, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const c = { ...fitBenchConfig('quick'), recipe: { epochs: 5, batch: 4, lr: 0.01, momentum: 0.9, stepSize: 4, gamma: 0.1 } };
  const ctx = { dir: root, cfg: { threads: 1 }, workerEnv: { python: PEER_PYTHON } } as unknown as BenchContext;
  const before = liveTensors();
  const row = await peerRecipe(ctx, c, source, 'mnist:train@k=10,seed=1', 'mnist:test@k=20,seed=1', 't');
  assert.equal(liveTensors().count, before.count, 'the decoded images and the model are disposed');
  assert.match(row.recipe, /5 epochs, batch 4/);
  // 200 test digits, 10 classes: an accuracy on that grid, and above chance (0.1) after 5 epochs on 100 digits.
  assert.ok(Number.isInteger(Math.round(row.accuracy * 200)) && Math.abs(row.accuracy * 200 - Math.round(row.accuracy * 200)) < 1e-9);
  assert.ok(row.accuracy > 0.15, `accuracy ${row.accuracy}`);
  assert.ok(row.seconds > 0);
});
