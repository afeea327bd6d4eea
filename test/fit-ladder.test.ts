// tlcv fit's budget logic without training anything (issue 22, part B): an injected clock, rungs
// that say what they cost and advance the clock by what they take, and the cost model's
// arithmetic. Also the stratified k-fold split fit uses on small data, and how --model auto
// chooses its candidates from what the weights cache holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CostModel, chooseCandidates, climb, leaderboardMarkdown, type Rung } from '../src/runs/index.js';
import { stratifiedFold, type ImageDataset } from '../src/data/index.js';
import { getModelConfig } from '../src/models/index.js';

/** A fake clock and rungs that take `takes` seconds of it, scoring `score`. */
function setup() {
  let now = 1000;
  const ran: string[] = [];
  const released: string[] = [];
  const rung = (name: string, predicted: number | null, takes: number, score: number, o: { fails?: boolean; onRun?: () => void } = {}): Rung<string> => ({
    strategy: name,
    backbone: 'b',
    predict: () => predicted,
    run: async (ctx) => {
      ran.push(name);
      assert.ok(ctx.seconds > 0 && ctx.deadline > now, 'a rung is told its deadline');
      now += takes;
      o.onRun?.();
      if (o.fails === true) throw new Error(`${name} broke`);
      return { score, model: name };
    },
  });
  return { clock: () => now, ran, released, release: (m: string) => void released.push(m), rung };
}

test('climb: a rung runs only when its prediction fits in what is left; the rest are skipped, not run', async () => {
  const s = setup();
  const rungs = [s.rung('ncm', 10, 10, 0.5), s.rung('fe', 20, 25, 0.6), s.rung('ft', 50, 40, 0.7), s.rung('ft-long', 100, 100, 0.9)];
  const r = await climb(rungs, { budget: 100, reserve: 5, clock: s.clock, release: s.release });
  // 10 + 25 = 35 s used, 60 left: ft (50) fits; then 25 left: ft-long (100) does not.
  assert.deepEqual(s.ran, ['ncm', 'fe', 'ft']);
  assert.deepEqual(
    r.board.map((e) => e.status),
    ['done', 'done', 'done', 'skipped'],
  );
  assert.match(r.board[3]!.note!, /would take about 100s, 20s left/);
  assert.equal(r.best?.result.model, 'ft');
  assert.deepEqual(s.released, ['ncm', 'fe']);
  assert.equal(r.board[1]!.seconds, 25);
  assert.equal(r.board[1]!.predicted, 20);
});

test('climb: a rung that makes room for a later one is skipped when both do not fit but that one alone does, and runs as the fallback when neither would', async () => {
  const s = setup();
  const told: number[] = [];
  const fe = (ftLeast: number): Rung<string> => {
    const r = s.rung('fe', 20, 20, 0.6);
    return { ...r, run: (ctx) => (told.push(ctx.seconds), r.run(ctx)), makesRoomFor: () => ({ strategy: 'ft', seconds: ftLeast }) };
  };
  // 90 s left after ncm: fe (20) + ft (60) fit together: both run, and fe is told of 30 s, not 90
  // (a rung that sizes itself to its time would take all 90).
  let r = await climb([s.rung('ncm', 10, 10, 0.5), fe(60), s.rung('ft', 60, 60, 0.8)], { budget: 100, reserve: 0, clock: s.clock, release: s.release });
  assert.deepEqual(s.ran, ['ncm', 'fe', 'ft']);
  assert.deepEqual(told, [30]);
  // 90 s left: fe (20) + ft (80) do not; ft alone does: fe leaves its time to ft.
  s.ran.length = 0;
  r = await climb([s.rung('ncm', 10, 10, 0.5), fe(80), s.rung('ft', 80, 80, 0.8)], { budget: 100, reserve: 0, clock: s.clock, release: s.release });
  assert.deepEqual(s.ran, ['ncm', 'ft']);
  assert.equal(r.board[1]!.status, 'skipped');
  assert.match(r.board[1]!.note!, /^left its 20s to ft \(about 80s, 90s left\)$/);
  assert.equal(r.best?.result.model, 'ft');
  // 90 s left, ft needs 120: fe runs, the fallback it is, with all 90 s.
  s.ran.length = 0;
  r = await climb([s.rung('ncm', 10, 10, 0.5), fe(120), s.rung('ft', 120, 120, 0.8)], { budget: 100, reserve: 0, clock: s.clock, release: s.release });
  assert.deepEqual(s.ran, ['ncm', 'fe']);
  assert.deepEqual(told, [30, 90]);
  assert.equal(r.best?.result.model, 'fe');
});

test('climb: it keeps the best so far (a later, worse rung is released; a tie keeps the earlier) and goes on past a skipped rung', async () => {
  const s = setup();
  const rungs = [s.rung('a', 5, 5, 0.8), s.rung('big', 500, 1, 0.99), s.rung('b', 5, 5, 0.6), s.rung('c', 5, 5, 0.8), s.rung('na', null, 0, 1)];
  const r = await climb(rungs, { budget: 60, reserve: 0, clock: s.clock, release: s.release });
  assert.deepEqual(s.ran, ['a', 'b', 'c']);
  assert.equal(r.best?.result.model, 'a');
  assert.deepEqual(s.released, ['b', 'c']);
  assert.equal(r.board[4]!.note, 'not applicable');
  const table = leaderboardMarkdown(r.board, r.best!.entry);
  // Best first, the kept one marked, rungs not run last.
  const rows = table.split('\n').slice(2);
  assert.match(rows[0]!, /^\| a \| b \| 80\.0% .*kept/);
  assert.match(rows.at(-1)!, /^\| na \|.*skipped: not applicable/);
});

test('climb: a failing rung is on the board and the ladder goes on; an interrupt starts no further rung and keeps the best so far', async () => {
  const s = setup();
  let stop = false;
  const rungs = [s.rung('a', 5, 5, 0.4), s.rung('bad', 5, 5, 0, { fails: true }), s.rung('b', 5, 5, 0.7, { onRun: () => (stop = true) }), s.rung('c', 5, 5, 0.9)];
  const r = await climb(rungs, { budget: 100, reserve: 0, clock: s.clock, release: s.release, interrupted: () => stop });
  assert.deepEqual(s.ran, ['a', 'bad', 'b']);
  assert.equal(r.board[1]!.status, 'failed');
  assert.equal(r.board[1]!.note, 'bad broke');
  assert.equal(r.board[3]!.note, 'interrupted');
  assert.equal(r.best?.result.model, 'b');
  assert.deepEqual(s.released, ['a']);
});

test('climb: with a margin, a later rung replaces the best only when it beats it by more than the margin', async () => {
  const s = setup();
  const rungs = [s.rung('a', 5, 5, 0.7), s.rung('b', 5, 5, 0.72), s.rung('c', 5, 5, 0.8)];
  const r = await climb(rungs, { budget: 100, reserve: 0, clock: s.clock, release: s.release, margin: 0.05 });
  assert.equal(r.best?.result.model, 'c');
  assert.deepEqual(s.released, ['b', 'a']);
});

test('climb: time kept back for what follows the best so far shortens what later rungs may take', async () => {
  const s = setup();
  const rungs = [s.rung('a', 10, 10, 0.5), s.rung('b', 30, 30, 0.6)];
  // Without the reserve b fits (35 s left after a); keeping back a's 10 s leaves 25.
  const r = await climb(rungs, { budget: 50, reserve: 5, clock: s.clock, release: s.release, reserveFor: (best) => best?.seconds ?? 0 });
  assert.deepEqual(s.ran, ['a']);
  assert.match(r.board[1]!.note!, /would take about 30s, 25s left/);
});

test('climb: with no rung that fits, nothing runs and nothing is kept', async () => {
  const s = setup();
  const r = await climb([s.rung('a', 50, 50, 1)], { budget: 40, reserve: 2, clock: s.clock, release: s.release });
  assert.deepEqual(s.ran, []);
  assert.equal(r.best, null);
});

test('CostModel: strategies cost what they push through the backbone, folds multiply, and a measured rung corrects later predictions', () => {
  const c = new CostModel();
  c.setForward('r', 0.01);
  const d = { train: 80, val: 20, folds: 1 };
  // 2 s of set-up + 100 forwards.
  assert.ok(Math.abs(c.head('r', d) - 3) < 1e-9);
  assert.ok(Math.abs(c.head('r', { ...d, folds: 3 }) - 9) < 1e-9);
  assert.ok(c.featureExtraction('r', d, 10) < c.training('r', d, 10));
  // 10 epochs of (80 x 3 + 20) forwards of 10 ms: 26 s + 2.
  assert.ok(Math.abs(c.training('r', d, 10) - 28) < 1e-9);
  assert.equal(c.epochsWithin('train', 'r', d, 28), 10);
  assert.equal(c.epochsWithin('train', 'r', d, 27.9), 9);
  assert.equal(c.epochsWithin('train', 'r', d, 1), 0);
  // A rung that took twice its prediction doubles what the next of its family is predicted to
  // take, and what training (not yet measured) is predicted to take: the heads hold the machine's load.
  c.observe('r', 'head', 6, 3);
  assert.ok(Math.abs(c.head('r', d) - 6) < 1e-9);
  assert.ok(Math.abs(c.training('r', d, 10) - 56) < 1e-9);
  // A later observation is averaged in (geometric mean): 8 seen against 2 known gives 4.
  c.observe('r', 'head', 24, 6);
  assert.ok(Math.abs(c.correction('r') - 4) < 1e-9);
  // Heads faster than predicted never make training's prediction smaller than the model's own.
  const fast = new CostModel();
  fast.setForward('r', 0.01);
  fast.observe('r', 'head', 1, 4);
  assert.equal(fast.correction('r', 'head'), 0.25);
  assert.equal(fast.correction('r', 'train'), 1);
  // The probe's own cost (its L2 sweep) does not spill into training's predictions.
  c.observe('r', 'probe', 600, 6);
  assert.ok(Math.abs(c.correction('r', 'probe') - 8) < 1e-9, 'capped');
  assert.ok(Math.abs(c.correction('r', 'train') - 4) < 1e-9);
  // Nor does feature extraction's (its time is the loaders' and the validation passes'): it
  // corrects its own family, which starts from the heads' as training does.
  assert.ok(Math.abs(c.correction('r', 'frozen') - 4) < 1e-9);
  // 1.5 times its prediction, made at 4: 6 (a family's first observation stands alone).
  c.observe('r', 'frozen', 15, 10);
  assert.ok(Math.abs(c.correction('r', 'frozen') - 6) < 1e-9);
  assert.ok(Math.abs(c.correction('r', 'train') - 4) < 1e-9);
  assert.ok(Math.abs(c.featureExtraction('r', d, 1) - (2 + (80 * 1.2 + 20) * 0.01) * 6) < 1e-9);
  assert.throws(() => c.head('unmeasured', d), /no forward time/);
});

test('stratifiedFold: every image validates in exactly one fold, each fold holds each class, train and validation are disjoint', () => {
  const labels = Int32Array.from([...Array(10).fill(0), ...Array(7).fill(1), ...Array(4).fill(2)]);
  const n = labels.length;
  const ds = { name: 'toy', n, labels, classes: ['a', 'b', 'c'], channels: 1, height: 1, width: 1, images: Uint8Array.from({ length: n }, (_, i) => i) } as unknown as ImageDataset;
  const seen = new Array<number>(n).fill(0);
  for (let i = 0; i < 3; i += 1) {
    const [train, val] = stratifiedFold(ds, 3, i, 5);
    assert.equal(train.n + val.n, n);
    const valLabels = Array.from(val.labels);
    for (const c of [0, 1, 2]) assert.ok(valLabels.includes(c), `fold ${i} validates class ${c}`);
    // Recover positions from pixel identity: the toy's pixel i is i.
    const vals = Array.from((val as ImageDataset).images);
    for (const p of vals) seen[p]! += 1;
    const trainPx = new Set(Array.from((train as ImageDataset).images));
    for (const p of vals) assert.ok(!trainPx.has(p));
  }
  assert.deepEqual(seen, new Array<number>(n).fill(1));
  assert.throws(() => stratifiedFold(ds, 1, 0, 0), /at least 2/);
});

test('chooseCandidates: auto takes cached zoo weights (cheapest first, two at most), else seed-cnn from scratch, and says why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-fit-cands-'));
  try {
    const none = chooseCandidates('auto', { weightsDir: dir });
    assert.deepEqual(none.candidates, [{ backbone: 'seed-cnn', kind: 'scratch', source: 'seed-cnn' }]);
    assert.match(none.why, /no pretrained weights in the weights cache/);
    for (const name of ['resnet50', 'resnet18', 'mobilenet_v3_small']) writeFileSync(join(dir, getModelConfig(name).pretrained!.file), 'x');
    const some = chooseCandidates('auto', { weightsDir: dir });
    assert.deepEqual(
      some.candidates.map((c) => [c.backbone, c.kind]),
      [
        ['mobilenet_v3_small', 'pretrained'],
        ['resnet18', 'pretrained'],
      ],
    );
    assert.match(some.why, /also cached, not tried: resnet50/);
    assert.equal(chooseCandidates('seed-cnn').candidates[0]!.kind, 'scratch');
    assert.equal(chooseCandidates('resnet18').candidates[0]!.kind, 'pretrained');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
