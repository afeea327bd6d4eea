// The few-shot and adaptation bench sections' arithmetic, without running them (they train
// source models for minutes): what they read from the commands' output, the commands as shown,
// the best gain per scenario, and issue 14's targets, met and missed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, renderMarkdown, type BenchReport } from '../src/bench/index.js';
import { CommandRunner, withModifiers } from '../src/bench/core/commands.js';
import { fitSeconds } from '../src/bench/fewshot/section.js';
import type { FewshotFigures } from '../src/bench/fewshot/types.js';
import { adaptAccuracies } from '../src/bench/adapt/section.js';
import { bestGains } from '../src/bench/adapt/report.js';
import type { AdaptFigures } from '../src/bench/adapt/types.js';

test('what the sections read from the commands, and how they show them', () => {
  assert.deepEqual(adaptAccuracies('wrote runs/a (12.0s); target test accuracy 47.40% (source-only) -> 61.20% (dann); source accuracy 99.00% -> 97.00%\n'), { sourceOnly: 0.474, adapted: 0.612 });
  assert.throws(() => adaptAccuracies('wrote runs/a (3.0s)\n'), /printed no target test accuracies/);
  assert.equal(fitSeconds('wrote runs/ncm (4.2s, fit 0.3s); support-set accuracy 90.00%\n'), 0.3);
  assert.equal(withModifiers('mnist:test', 'k=10'), 'mnist:test@k=10');
  assert.equal(withModifiers('mnist:test@classes=0-4', 'k=10'), 'mnist:test@classes=0-4,k=10');
  const runs = new CommandRunner('/tmp/bench-x/adapt', 1, () => undefined);
  assert.equal(runs.show(['adapt', '--model', runs.path('src'), '--target', 'mnist:test@shift=rotate:45', '--title', 'two words']), "tlcv adapt --model runs/src --target mnist:test@shift=rotate:45 --title 'two words'");
});

const cell = (model: string, method: string, accuracy: number): AdaptFigures['rows'][number]['cells'][number] => ({ model, method, accuracy, seconds: 1, command: `tlcv ${method}` });

function report(fewshot: FewshotFigures, adapt: AdaptFigures): BenchReport {
  const machine = { cpu: 'x', cores: 2, threads: 2, loadAverageStart: [0, 0, 0], loadAverageEnd: [0, 0, 0], node: 'v20', torch: null, ompWaitPolicy: null, tlcvAutoPlan: null };
  return { command: 'tlcv bench --only fewshot,adapt', startedAt: '', seconds: 1, machine, config: {}, throughput: [], gemm: null, transfer: [], precision: null, memory: null, tfjs: null, fewshot, adapt, targets: [], errors: {} };
}

test("issue 14's targets follow from the figures", () => {
  const row = (method: string, accuracy: number, fit: number): FewshotFigures['rows'][number] => ({ method, accuracies: [accuracy], accuracy, seconds: fit + 3, fitSeconds: fit, command: `tlcv transfer --mode ${method}`, evaluate: 'tlcv evaluate' });
  const fewshot: FewshotFigures = {
    source: 'fashion-mnist:train',
    sourceCommand: 'tlcv pretrain',
    target: 'mnist:all',
    k: 10,
    seeds: [1],
    rows: [row('feature extraction (trained head)', 0.85, 10), row('ncm', 0.84, 1), row('probe', 0.82, 1), row('knn (k=5)', 0.8, 1)],
    peer: null,
  };
  const adapt: AdaptFigures = {
    source: 'mnist:train',
    sourceCommands: ['tlcv pretrain'],
    rows: [
      { shift: 'noise:0.5', target: 't', targetTest: 'tt', cells: [cell('seed-cnn', 'source-only', 0.3), cell('seed-cnn', 'dann', 0.35), cell('resnet18', 'source-only', 0.6), cell('resnet18', 'adabn', 0.85)] },
      { shift: 'invert', target: 't', targetTest: 'tt', cells: [cell('seed-cnn', 'source-only', 0.2), cell('seed-cnn', 'dann', 0.31), cell('resnet18', 'source-only', 0.2), cell('resnet18', 'adabn', 0.25)] },
      { shift: 'rotate:45', target: 't', targetTest: 'tt', cells: [cell('seed-cnn', 'source-only', 0.5), cell('seed-cnn', 'dann', 0.45)] },
    ],
  };
  const gains = bestGains(adapt);
  assert.deepEqual(
    gains.map((g) => [g.shift, g.method, Math.round(g.points * 10) / 10]),
    [
      ['noise:0.5', 'adabn (resnet18)', 25],
      ['invert', 'dann (seed-cnn)', 11],
      ['rotate:45', 'dann (seed-cnn)', -5],
    ],
  );
  const r = report(fewshot, adapt);
  const targets = checkTargets(r);
  const ncm = targets.find((t) => t.name.includes('few-shot ncm'))!;
  const probe = targets.find((t) => t.name.includes('few-shot probe'))!;
  assert.equal(ncm.met, true, ncm.measured);
  assert.equal(probe.met, false, 'three points behind');
  assert.match(ncm.measured, /^-1\.00 points, 0\.100 of the fit time/);
  const uda = targets.find((t) => t.name.includes('adaptation'))!;
  assert.equal(uda.met, true);
  adapt.rows[1]!.cells[1]!.accuracy = 0.25;
  assert.equal(checkTargets(r).find((t) => t.name.includes('adaptation'))!.met, false, 'one scenario at +10 is not two');
  const md = renderMarkdown({ ...r, targets });
  assert.match(md, /\| noise:0\.5 \| 30\.00% \| 35\.00% \| 60\.00% \| 85\.00% \|/);
  assert.match(md, /\| ncm \| 84\.00% \| 84\.00% \| 1\.0 s \| 4\.0 s \| `tlcv transfer --mode ncm` \|/);
});
