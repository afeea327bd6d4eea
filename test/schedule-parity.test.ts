// LR schedule parity with PyTorch 1.13: the lr of every param group (two groups with different
// base lrs) right after construction and after each step() matches torch.optim.lr_scheduler to
// 1e-12 relative, as does the momentum / beta1 that OneCycleLR cycles. A schedule resumed from
// its JSON state dict (with the optimizer's) continues on the same sequence.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runPeer } from './helpers/peer.js';
import { zeros, type Tensor } from '../src/tensor/index.js';
import {
  SGD,
  Adam,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  SequentialLR,
  OneCycleLR,
  ReduceLROnPlateau,
  cosineWithWarmup,
  type LRScheduler,
  type Optimizer,
} from '../src/optim/index.js';

interface SchedCase {
  name: string;
  py: Record<string, unknown>;
  make: (opt: Optimizer) => LRScheduler;
  groupLrs: number[];
  steps: number;
  optimizer?: 'SGD' | 'Adam';
  metrics?: number[];
}

const plateauMetrics = (n: number): number[] => Array.from({ length: n }, (_, i) => (i < 8 ? 1 / (1 + i) : 0.12 + 0.001 * ((i * 7) % 5)));
const risingMetrics = (n: number): number[] => Array.from({ length: n }, (_, i) => Math.min(0.9, 0.3 + 0.11 * i) + 0.01 * (i % 3));

const CASES: SchedCase[] = [
  { name: 'StepLR', py: { kind: 'StepLR', options: { step_size: 3, gamma: 0.5 } }, make: (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 }), groupLrs: [0.1, 0.01], steps: 20 },
  {
    name: 'MultiStepLR (a repeated milestone)',
    py: { kind: 'MultiStepLR', options: { milestones: [2, 5, 5, 9], gamma: 0.3 } },
    make: (o) => new MultiStepLR(o, { milestones: [2, 5, 5, 9], gamma: 0.3 }),
    groupLrs: [0.1, 0.02],
    steps: 15,
  },
  { name: 'ExponentialLR', py: { kind: 'ExponentialLR', options: { gamma: 0.9 } }, make: (o) => new ExponentialLR(o, { gamma: 0.9 }), groupLrs: [0.1, 0.01], steps: 30 },
  {
    name: 'CosineAnnealingLR past tMax',
    py: { kind: 'CosineAnnealingLR', options: { T_max: 10, eta_min: 0.001 } },
    make: (o) => new CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 }),
    groupLrs: [0.1, 0.01],
    steps: 45,
  },
  {
    name: 'CosineAnnealingLR long',
    py: { kind: 'CosineAnnealingLR', options: { T_max: 200 } },
    make: (o) => new CosineAnnealingLR(o, { tMax: 200 }),
    groupLrs: [0.1, 0.003],
    steps: 200,
  },
  {
    name: 'LinearLR warm-up',
    py: { kind: 'LinearLR', options: { start_factor: 0.25, end_factor: 1.0, total_iters: 4 } },
    make: (o) => new LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 4 }),
    groupLrs: [0.1, 0.01],
    steps: 10,
  },
  {
    name: 'LinearLR decay',
    py: { kind: 'LinearLR', options: { start_factor: 1.0, end_factor: 0.1, total_iters: 7 } },
    make: (o) => new LinearLR(o, { startFactor: 1, endFactor: 0.1, totalIters: 7 }),
    groupLrs: [0.1, 0.01],
    steps: 10,
  },
  {
    name: 'cosineWithWarmup',
    py: { kind: 'CosineWithWarmup', options: { warmup: 5, total: 30, start_factor: 0.1, eta_min: 1e-4 } },
    make: (o) => cosineWithWarmup(o, { warmupSteps: 5, totalSteps: 30, startFactor: 0.1, etaMin: 1e-4 }),
    groupLrs: [0.1, 0.01],
    steps: 30,
  },
  {
    name: 'cosineWithWarmup without warm-up is CosineAnnealingLR',
    py: { kind: 'CosineAnnealingLR', options: { T_max: 20 } },
    make: (o) => cosineWithWarmup(o, { warmupSteps: 0, totalSteps: 20 }),
    groupLrs: [0.1, 0.01],
    steps: 20,
  },
  {
    name: 'SequentialLR of LinearLR and ExponentialLR',
    py: { kind: 'SequentialLR', options: { schedulers: [{ kind: 'LinearLR', options: { start_factor: 0.5, total_iters: 3 } }, { kind: 'ExponentialLR', options: { gamma: 0.9 } }], milestones: [3] } },
    make: (o) => new SequentialLR(o, [new LinearLR(o, { startFactor: 0.5, totalIters: 3 }), new ExponentialLR(o, { gamma: 0.9 })], [3]),
    groupLrs: [0.1, 0.01],
    steps: 12,
  },
  {
    name: 'OneCycleLR on SGD momentum',
    py: { kind: 'OneCycleLR', options: { max_lr: [0.5, 0.05], total_steps: 50 } },
    make: (o) => new OneCycleLR(o, { maxLr: [0.5, 0.05], totalSteps: 50 }),
    groupLrs: [0.1, 0.01],
    steps: 50,
  },
  {
    name: 'OneCycleLR three-phase linear on Adam beta1',
    py: {
      kind: 'OneCycleLR',
      options: { max_lr: 0.01, total_steps: 40, three_phase: true, anneal_strategy: 'linear', pct_start: 0.25, div_factor: 10.0, final_div_factor: 100.0, base_momentum: 0.8, max_momentum: 0.9 },
    },
    make: (o) => new OneCycleLR(o, { maxLr: 0.01, totalSteps: 40, threePhase: true, annealStrategy: 'linear', pctStart: 0.25, divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9 }),
    groupLrs: [0.1, 0.01],
    steps: 40,
    optimizer: 'Adam',
  },
  {
    name: 'OneCycleLR by epochs without momentum cycling',
    py: { kind: 'OneCycleLR', options: { max_lr: 0.1, epochs: 3, steps_per_epoch: 7, cycle_momentum: false } },
    make: (o) => new OneCycleLR(o, { maxLr: 0.1, epochs: 3, stepsPerEpoch: 7, cycleMomentum: false }),
    groupLrs: [0.1, 0.01],
    steps: 21,
  },
  {
    name: 'ReduceLROnPlateau min, rel, cooldown, per-group minLr',
    py: { kind: 'ReduceLROnPlateau', options: { mode: 'min', factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, min_lr: [0.001, 0.0] } },
    make: (o) => new ReduceLROnPlateau(o, { mode: 'min', factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, minLr: [0.001, 0] }),
    groupLrs: [0.1, 0.01],
    steps: 30,
    metrics: plateauMetrics(30),
  },
  {
    name: 'ReduceLROnPlateau max, abs',
    py: { kind: 'ReduceLROnPlateau', options: { mode: 'max', threshold_mode: 'abs', threshold: 0.05, patience: 1, factor: 0.3 } },
    make: (o) => new ReduceLROnPlateau(o, { mode: 'max', thresholdMode: 'abs', threshold: 0.05, patience: 1, factor: 0.3 }),
    groupLrs: [0.1, 0.01],
    steps: 20,
    metrics: risingMetrics(20),
  },
];

interface Sequence {
  lrs: number[][];
  momentums: number[][];
}

let expected: Sequence[];
before(() => {
  const py = CASES.map((c) => ({ ...c.py, group_lrs: c.groupLrs, steps: c.steps, optimizer: c.optimizer ?? 'SGD', metrics: c.metrics }));
  expected = runPeer('sched_parity.py', [JSON.stringify(py)]).meta.results as Sequence[];
});

function makeOptimizer(c: SchedCase, params: Tensor[]): Optimizer {
  const groups = params.map((p, i) => ({ params: [p], lr: c.groupLrs[i] }));
  return c.optimizer === 'Adam' ? new Adam(groups) : new SGD(groups, { lr: 0.1, momentum: 0.9 });
}

const momentumOf = (opt: Optimizer): number[] => opt.paramGroups.map((g) => ('betas' in g ? (g.betas as number[])[0]! : (g as unknown as { momentum: number }).momentum));

/** Runs a case; with resumeAt, optimizer and schedule restart from their JSON state dicts at that step. */
function run(c: SchedCase, resumeAt?: number): Sequence {
  const params = c.groupLrs.map(() => zeros([1]).requiresGrad_(true));
  let opt = makeOptimizer(c, params);
  let sched = c.make(opt);
  const out: Sequence = { lrs: [sched.getLastLr()], momentums: [momentumOf(opt)] };
  for (let i = 0; i < c.steps; i += 1) {
    if (i === resumeAt) {
      const optState = opt.stateDict();
      const schedState = JSON.parse(JSON.stringify(sched.stateDict()));
      const next = makeOptimizer(c, params);
      const nextSched = c.make(next);
      next.loadStateDict({ tensors: optState.tensors, meta: JSON.parse(JSON.stringify(optState.meta)) });
      nextSched.loadStateDict(schedState);
      opt.dispose();
      opt = next;
      sched = nextSched;
    }
    opt.step();
    sched.step(c.metrics?.[i]);
    out.lrs.push(sched.getLastLr());
    out.momentums.push(momentumOf(opt));
    assert.deepEqual(sched.getLastLr(), opt.paramGroups.map((g) => g.lr), 'getLastLr is the groups\' lr');
  }
  opt.dispose();
  params.forEach((p) => p.dispose());
  return out;
}

function compare(actual: number[][], wanted: number[][], what: string): number {
  assert.equal(actual.length, wanted.length, `${what}: number of steps`);
  let inexact = 0;
  actual.forEach((row, step) =>
    row.forEach((a, g) => {
      const e = wanted[step]![g]!;
      if (a !== e) inexact += 1;
      assert.ok(Math.abs(a - e) <= 1e-12 * Math.max(Math.abs(a), Math.abs(e)), `${what}: group ${g} after step ${step} is ${a}, PyTorch has ${e}`);
    }),
  );
  return inexact;
}

CASES.forEach((c, k) => {
  test(`${c.name}: lr sequence matches PyTorch`, (t) => {
    const got = run(c);
    const inexact = compare(got.lrs, expected[k]!.lrs, c.name) + compare(got.momentums, expected[k]!.momentums, `${c.name} momentum`);
    t.diagnostic(`${inexact} of ${2 * got.lrs.length * c.groupLrs.length} values differ in the last bits`);
    // The schedule does something: the lr is not constant over the run.
    assert.ok(new Set(got.lrs.map((r) => r[0])).size > 1, `${c.name}: lr never changed`);
  });
});

test('a schedule resumed from its state dict continues on the same sequence', () => {
  for (const c of CASES) {
    const straight = run(c);
    const resumed = run(c, Math.floor(c.steps / 2));
    assert.deepEqual(resumed, straight, c.name);
  }
});

test('bad settings are argument errors that name the setting', () => {
  const p = zeros([1]).requiresGrad_(true);
  const opt = new SGD([p], { lr: 0.1 });
  const bad = (fn: () => unknown, name: RegExp): void => assert.throws(fn, (e: Error & { code?: string }) => e.code === 'ARGUMENT' && name.test(e.message));
  bad(() => new StepLR(opt, { stepSize: 0 }), /stepSize/);
  bad(() => new CosineAnnealingLR(opt, { tMax: -1 }), /tMax/);
  bad(() => new LinearLR(opt, { startFactor: 0 }), /startFactor/);
  bad(() => cosineWithWarmup(opt, { warmupSteps: 10, totalSteps: 10 }), /totalSteps/);
  bad(() => new OneCycleLR(opt, { maxLr: [0.1, 0.2], totalSteps: 10 }), /maxLr/);
  bad(() => new ReduceLROnPlateau(opt, { factor: 1 }), /factor/);
  bad(() => new ReduceLROnPlateau(opt).step(), /metric/);
  const one = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 2 });
  one.step();
  one.step();
  assert.throws(() => one.step(), /totalSteps is 2/);
  opt.dispose();
  p.dispose();
});
