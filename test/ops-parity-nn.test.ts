// Parity with PyTorch for the functional CNN ops: conv2d, pooling, batch norm, dropout, linear,
// activations, losses and resampling; values and gradients. Python twins: test/peer/ops_cases_nn.py.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { F, type Tensor } from '../src/tensor/index.js';
import { assertParity, runParity, type CaseResult, type Gen, type Inputs, type ParityCase } from './ops-parity-harness.js';

const img = (shape: number[]) => (g: Gen) => ({ x: g.r(shape) });

function conv(name: string, x: number[], w: number[], o: F.Conv2dOptions, bias = true): ParityCase {
  return {
    name: `conv2d/${name}`,
    inputs: (g) => ({ x: g.r(x), w: g.r(w, -0.5, 0.5), ...(bias ? { b: g.r([w[0]!]) } : {}) }),
    grad: bias ? ['x', 'w', 'b'] : ['x', 'w'],
    meta: { ...o },
    run: (t) => F.conv2d(t.x!, t.w!, t.b ?? null, o),
  };
}

const convs: ParityCase[] = [
  conv('basic', [2, 3, 8, 8], [4, 3, 3, 3], {}),
  conv('stride-padding', [2, 3, 9, 9], [5, 3, 3, 3], { stride: 2, padding: 1 }),
  conv('asymmetric', [1, 2, 7, 8], [3, 2, 3, 2], { stride: [2, 1], padding: [0, 2] }),
  conv('dilation', [1, 3, 10, 10], [2, 3, 3, 3], { dilation: 2, padding: 2 }),
  conv('groups', [2, 4, 7, 7], [6, 2, 3, 3], { groups: 2 }),
  conv('depthwise', [1, 4, 6, 6], [4, 1, 3, 3], { groups: 4, padding: 1 }),
  conv('no-bias', [2, 3, 6, 6], [4, 3, 1, 1], {}, false),
  conv('all-options', [2, 4, 11, 11], [6, 2, 3, 3], { stride: 2, padding: 1, dilation: 2, groups: 2 }),
];

const pooling: ParityCase[] = [
  { name: 'max_pool2d/k2', inputs: img([2, 3, 8, 8]), grad: ['x'], run: (t) => F.maxPool2d(t.x!, 2) },
  { name: 'max_pool2d/k3-s2-p1', inputs: img([2, 3, 9, 9]), grad: ['x'], run: (t) => F.maxPool2d(t.x!, 3, { stride: 2, padding: 1 }) },
  { name: 'max_pool2d/ceil', inputs: img([1, 2, 7, 7]), grad: ['x'], run: (t) => F.maxPool2d(t.x!, 2, { ceilMode: true }) },
  { name: 'max_pool2d/dilation', inputs: img([1, 2, 9, 9]), grad: ['x'], run: (t) => F.maxPool2d(t.x!, 2, { stride: 1, dilation: 2 }) },
  { name: 'avg_pool2d/k2', inputs: img([2, 3, 8, 8]), grad: ['x'], run: (t) => F.avgPool2d(t.x!, 2) },
  {
    name: 'avg_pool2d/k3-s2-p1-exclude-pad',
    inputs: img([2, 3, 9, 9]),
    grad: ['x'],
    run: (t) => F.avgPool2d(t.x!, 3, { stride: 2, padding: 1, countIncludePad: false }),
  },
  { name: 'avg_pool2d/ceil', inputs: img([1, 2, 7, 7]), grad: ['x'], run: (t) => F.avgPool2d(t.x!, 2, { ceilMode: true }) },
  { name: 'adaptive_avg_pool2d/1', inputs: img([2, 3, 7, 5]), grad: ['x'], run: (t) => F.adaptiveAvgPool2d(t.x!, 1) },
  { name: 'adaptive_avg_pool2d/3x2', inputs: img([2, 3, 7, 5]), grad: ['x'], run: (t) => F.adaptiveAvgPool2d(t.x!, [3, 2]) },
];

const bnInputs = (g: Gen) => ({ x: g.r([4, 3, 5, 5], -2, 3), w: g.r([3], 0.5, 1.5), b: g.r([3]), rm: g.r([3]), rv: g.r([3], 0.5, 2) });
function bnTrain(t: Inputs): Record<string, Tensor> {
  const rm = t.rm!.clone();
  const rv = t.rv!.clone();
  const out = F.batchNorm(t.x!, { weight: t.w!, bias: t.b!, runningMean: rm, runningVar: rv, training: true, momentum: 0.2 });
  return { out, rm, rv };
}
const norm: ParityCase[] = [
  { name: 'batch_norm/train', inputs: bnInputs, grad: ['x', 'w', 'b'], run: bnTrain },
  {
    name: 'batch_norm/eval',
    inputs: bnInputs,
    grad: ['x', 'w', 'b'],
    run: (t) => F.batchNorm(t.x!, { weight: t.w!, bias: t.b!, runningMean: t.rm!, runningVar: t.rv!, training: false, eps: 1e-3 }),
  },
  { name: 'batch_norm/train-plain', inputs: img([6, 4, 3, 2]), grad: ['x'], run: (t) => F.batchNorm(t.x!, { training: true }) },
  { name: 'batch_norm/train-1d', inputs: (g) => ({ ...bnInputs(g), x: g.r([8, 3]) }), grad: ['x', 'w', 'b'], run: bnTrain },
  { name: 'dropout/train', inputs: img([4, 3, 10, 10]), seed: 21, grad: ['x'], run: (t) => F.dropout(t.x!, 0.3, true) },
  { name: 'dropout/train-small', inputs: img([13]), seed: 22, grad: ['x'], run: (t) => F.dropout(t.x!, 0.5, true) },
  { name: 'dropout/eval', inputs: img([4, 5]), seed: 23, grad: ['x'], run: (t) => F.dropout(t.x!, 0.3, false) },
  { name: 'dropout/p1', inputs: img([4, 5]), seed: 24, grad: ['x'], run: (t) => F.dropout(t.x!, 1, true) },
  { name: 'linear', inputs: (g) => ({ x: g.r([5, 7]), w: g.r([3, 7]), b: g.r([3]) }), grad: ['x', 'w', 'b'], run: (t) => F.linear(t.x!, t.w!, t.b!) },
  { name: 'linear/no-bias', inputs: (g) => ({ x: g.r([5, 7]), w: g.r([3, 7]) }), grad: ['x', 'w'], run: (t) => F.linear(t.x!, t.w!) },
  { name: 'linear/3d', inputs: (g) => ({ x: g.r([2, 5, 7]), w: g.r([3, 7]), b: g.r([3]) }), grad: ['x', 'w', 'b'], run: (t) => F.linear(t.x!, t.w!, t.b!) },
];

const act = (name: string, fn: (x: Tensor) => Tensor, lo = -3, hi = 3): ParityCase => ({
  name: `act/${name}`,
  inputs: (g) => ({ x: g.r([3, 4, 5], lo, hi) }),
  grad: ['x'],
  run: (t) => fn(t.x!),
});
const activations: ParityCase[] = [
  act('relu', F.relu),
  act('relu6', F.relu6, -3, 9),
  act('leaky_relu', (x) => F.leakyRelu(x)),
  act('leaky_relu/0.2', (x) => F.leakyRelu(x, 0.2)),
  act('gelu', (x) => F.gelu(x)),
  act('gelu/tanh', (x) => F.gelu(x, 'tanh')),
  act('sigmoid', F.sigmoid),
  act('tanh', F.tanh),
  act('softmax/1', (x) => F.softmax(x, 1)),
  act('softmax/-1', (x) => F.softmax(x, -1), -10, 10),
  act('log_softmax/1', (x) => F.logSoftmax(x, 1)),
  act('log_softmax/-1', (x) => F.logSoftmax(x, -1), -10, 10),
];

const logits = (g: Gen) => ({ x: g.r([6, 5], -3, 3), y: g.ints([6], 0, 5), w: g.r([5], 0.2, 2) });
const ce = (name: string, o: F.CrossEntropyOptions & { useWeight?: boolean }): ParityCase => ({
  name: `cross_entropy/${name}`,
  inputs: logits,
  grad: ['x'],
  meta: { reduction: o.reduction ?? 'mean', labelSmoothing: o.labelSmoothing ?? 0, ignoreIndex: o.ignoreIndex ?? -100, useWeight: o.useWeight ?? false },
  run: (t) => F.crossEntropy(t.x!, t.y!, { ...o, weight: o.useWeight === true ? t.w! : null }),
});
const nll = (name: string, o: F.CrossEntropyOptions & { useWeight?: boolean }): ParityCase => ({
  name: `nll_loss/${name}`,
  inputs: logits,
  grad: ['x'],
  meta: { reduction: o.reduction ?? 'mean', ignoreIndex: o.ignoreIndex ?? -100, useWeight: o.useWeight ?? false },
  run: (t) => F.nllLoss(F.logSoftmax(t.x!, 1), t.y!, { ...o, weight: o.useWeight === true ? t.w! : null }),
});
const losses: ParityCase[] = [
  ce('mean', {}),
  ce('sum', { reduction: 'sum' }),
  ce('none', { reduction: 'none' }),
  ce('weights', { useWeight: true }),
  ce('label-smoothing', { labelSmoothing: 0.1 }),
  ce('weights-label-smoothing', { useWeight: true, labelSmoothing: 0.2 }),
  ce('weights-label-smoothing-sum', { useWeight: true, labelSmoothing: 0.2, reduction: 'sum' }),
  ce('ignore-index', { ignoreIndex: 2 }),
  {
    name: 'cross_entropy/probabilities',
    inputs: (g) => ({ x: g.r([6, 5], -3, 3), p: g.r([6, 5], 0.1, 1) }),
    grad: ['x', 'p'],
    run: (t) => F.crossEntropy(t.x!, t.p!.div(t.p!.sum(1, true)), { labelSmoothing: 0.1 }),
  },
  {
    name: 'cross_entropy/spatial',
    inputs: (g) => ({ x: g.r([2, 4, 3, 3], -3, 3), y: g.ints([2, 3, 3], 0, 4) }),
    grad: ['x'],
    run: (t) => F.crossEntropy(t.x!, t.y!),
  },
  nll('mean', {}),
  nll('sum', { reduction: 'sum' }),
  nll('none', { reduction: 'none' }),
  nll('weights', { useWeight: true }),
  nll('ignore-index', { ignoreIndex: 0, useWeight: true }),
];

const grid = (g: Gen) => ({ x: g.r([2, 3, 5, 6]), grid: g.r([2, 4, 3, 2], -1.2, 1.2) });
type GridOptions = Parameters<typeof F.gridSample>[2] & object;
const sample = (name: string, o: GridOptions, grad = ['x', 'grid']): ParityCase => ({
  name: `grid_sample/${name}`,
  inputs: grid,
  grad,
  meta: { mode: o.mode ?? 'bilinear', paddingMode: o.paddingMode ?? 'zeros', alignCorners: o.alignCorners ?? false },
  run: (t) => F.gridSample(t.x!, t.grid!, o),
});
const resampling: ParityCase[] = [
  { name: 'interpolate/nearest-size', inputs: img([1, 2, 3, 4]), grad: ['x'], run: (t) => F.interpolate(t.x!, { size: [5, 7] }) },
  { name: 'interpolate/nearest-scale', inputs: img([1, 2, 3, 4]), grad: ['x'], run: (t) => F.interpolate(t.x!, { scaleFactor: 2 }) },
  { name: 'interpolate/bilinear-size', inputs: img([2, 2, 4, 5]), grad: ['x'], run: (t) => F.interpolate(t.x!, { size: [7, 3], mode: 'bilinear' }) },
  {
    name: 'interpolate/bilinear-align-corners',
    inputs: img([2, 2, 4, 5]),
    grad: ['x'],
    run: (t) => F.interpolate(t.x!, { size: [7, 9], mode: 'bilinear', alignCorners: true }),
  },
  { name: 'interpolate/bilinear-scale', inputs: img([1, 3, 4, 6]), grad: ['x'], run: (t) => F.interpolate(t.x!, { scaleFactor: [1.5, 0.5], mode: 'bilinear' }) },
  { name: 'pad/constant', inputs: img([2, 3, 4, 5]), grad: ['x'], run: (t) => F.pad(t.x!, [1, 2, 0, 1], 'constant', 0.5) },
  { name: 'pad/constant-last-dim', inputs: img([2, 3, 4]), grad: ['x'], run: (t) => F.pad(t.x!, [3, 1]) },
  { name: 'pad/reflect', inputs: img([2, 3, 4, 5]), grad: ['x'], run: (t) => F.pad(t.x!, [2, 1, 1, 2], 'reflect') },
  { name: 'pad/reflect-1d', inputs: img([2, 3, 5]), grad: ['x'], run: (t) => F.pad(t.x!, [2, 3], 'reflect') },
  { name: 'pad/replicate', inputs: img([2, 3, 4, 5]), grad: ['x'], run: (t) => F.pad(t.x!, [1, 1, 2, 0], 'replicate') },
  { name: 'affine_grid', inputs: (g) => ({ theta: g.r([2, 2, 3]) }), grad: ['theta'], run: (t) => F.affineGrid(t.theta!, [2, 3, 5, 4]) },
  {
    name: 'affine_grid/align-corners',
    inputs: (g) => ({ theta: g.r([2, 2, 3]) }),
    grad: ['theta'],
    run: (t) => F.affineGrid(t.theta!, [2, 3, 5, 4], true),
  },
  sample('bilinear-zeros', {}),
  sample('bilinear-border', { paddingMode: 'border' }),
  sample('bilinear-reflection', { paddingMode: 'reflection' }),
  sample('bilinear-align-corners', { alignCorners: true }),
  sample('nearest', { mode: 'nearest' }, ['x']),
  sample('bicubic', { mode: 'bicubic', paddingMode: 'border' }),
  {
    name: 'affine_grid+grid_sample',
    inputs: (g) => ({ x: g.r([2, 3, 6, 6]), theta: g.r([2, 2, 3], -0.8, 0.8) }),
    grad: ['x', 'theta'],
    run: (t) => F.gridSample(t.x!, F.affineGrid(t.theta!, [2, 3, 6, 6])),
  },
];

const CASES = [...convs, ...pooling, ...norm, ...activations, ...losses, ...resampling];
let results = new Map<string, CaseResult>();
let pythonOnly: string[] = [];

before(() => {
  ({ results, pythonOnly } = runParity(CASES, 'ops_cases_nn'));
});

test('every Python twin has a TS case', () => {
  assert.deepEqual(pythonOnly, []);
});

for (const c of CASES) test(c.name, () => assertParity(c, results.get(c.name)!));
