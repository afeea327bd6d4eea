// Parity with PyTorch for tensor creation, views and joins, element-wise math, comparisons,
// reductions, matmul, in-place ops and random numbers. Python twins: test/peer/ops_cases_tensor.py.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  arange, bernoulli, cat, eye, F, fromTypedArray, full, linspace, ones, rand, randint, randn, randperm, stack, tensor, where, zeros,
  type DType, type NestedArray,
} from '../src/tensor/index.js';
import { assertParity, runParity, type CaseResult, type Gen, type ParityCase } from './ops-parity-harness.js';

const x234 = (g: Gen) => ({ x: g.r([2, 3, 4]) });
const xy = (a: number[], b: number[], lo = -1, hi = 1) => (g: Gen) => ({ x: g.r(a, lo, hi), y: g.r(b, lo, hi) });
const fromData = (name: string, data: NestedArray, dtype?: DType): ParityCase => ({
  name: `tensor/${name}`,
  meta: { data, dtype: dtype ?? null },
  run: () => tensor(data, dtype === undefined ? {} : { dtype }),
});
const roundTrip = (dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool'): ParityCase => ({
  name: `fromTypedArray/${dtype}`,
  inputs: (g) => ({
    x: dtype === 'bool' ? g.bools([3, 4]) : dtype.startsWith('float') ? g.r([3, 4], -5, 5, dtype as 'float32') : g.ints([3, 4], 0, 200, dtype as 'int64'),
  }),
  run: (t) => fromTypedArray(t.x!.toTypedArray(), [2, 6], { dtype }),
});

const creation: ParityCase[] = [
  fromData('float32', [[1.5, -2, 3], [4, 5.25, -6]]),
  fromData('float64', [[1.5, -2], [1e-300, 7]], 'float64'),
  fromData('int64-truncates', [[1.7, -2.7], [3, 2 ** 40]], 'int64'),
  fromData('int32', [[1.9, -2.9, 3]], 'int32'),
  fromData('uint8', [0, 17, 255], 'uint8'),
  fromData('bool', [[true, false], [false, true]]),
  fromData('bool-from-numbers', [0, 1, 1], 'bool'),
  fromData('float16', [1.5, 65504, 1e-3, -0.1, 3e-7], 'float16'),
  fromData('bfloat16', [1.5, 3.14159, -1e30, 1e-3], 'bfloat16'),
  fromData('scalar', 3.5),
  fromData('empty', []),
  roundTrip('float32'), roundTrip('float64'), roundTrip('int64'), roundTrip('int32'), roundTrip('uint8'), roundTrip('bool'),
  { name: 'zeros', run: () => zeros([2, 3]) },
  { name: 'ones/int32', run: () => ones([4], { dtype: 'int32' }) },
  { name: 'full/float64', run: () => full([2, 2], 0.1, { dtype: 'float64' }) },
  { name: 'eye', run: () => eye(3) },
  { name: 'arange/int', run: () => arange(2, 11, 3) },
  { name: 'arange/float', run: () => arange(0, 1, 0.15) },
  { name: 'linspace', run: () => linspace(-1, 1, 7) },
];

const views: ParityCase[] = [
  { name: 'clone', inputs: x234, grad: ['x'], run: (t) => t.x!.clone() },
  { name: 'contiguous', inputs: x234, grad: ['x'], run: (t) => t.x!.transpose(0, 2).contiguous() },
  { name: 'reshape', inputs: x234, grad: ['x'], run: (t) => t.x!.reshape([4, -1]) },
  { name: 'view', inputs: x234, grad: ['x'], run: (t) => t.x!.view([6, 4]) },
  { name: 'permute', inputs: x234, grad: ['x'], run: (t) => t.x!.permute([2, 0, 1]) },
  { name: 'transpose', inputs: x234, grad: ['x'], run: (t) => t.x!.transpose(-1, 0) },
  { name: 'squeeze', inputs: (g) => ({ x: g.r([1, 3, 1, 2]) }), grad: ['x'], run: (t) => t.x!.squeeze() },
  { name: 'squeeze/dim', inputs: (g) => ({ x: g.r([1, 3, 1, 2]) }), grad: ['x'], run: (t) => t.x!.squeeze(2) },
  { name: 'unsqueeze', inputs: x234, grad: ['x'], run: (t) => t.x!.unsqueeze(-2) },
  { name: 'flatten', inputs: x234, grad: ['x'], run: (t) => t.x!.flatten() },
  { name: 'flatten/range', inputs: x234, grad: ['x'], run: (t) => t.x!.flatten(1, 2) },
  { name: 'cat', inputs: xy([2, 3], [2, 5]), grad: ['x', 'y'], run: (t) => cat([t.x!, t.y!], 1) },
  { name: 'stack', inputs: xy([2, 3], [2, 3]), grad: ['x', 'y'], run: (t) => stack([t.x!, t.y!, t.x!]) },
  { name: 'stack/last', inputs: xy([2, 3], [2, 3]), grad: ['x', 'y'], run: (t) => stack([t.x!, t.y!], -1) },
  { name: 'narrow', inputs: x234, grad: ['x'], run: (t) => t.x!.narrow(2, 1, 2) },
  { name: 'slice/step', inputs: (g) => ({ x: g.r([3, 9]) }), grad: ['x'], run: (t) => t.x!.slice(1, 1, 8, 3) },
  { name: 'slice/open', inputs: (g) => ({ x: g.r([5, 2]) }), grad: ['x'], run: (t) => t.x!.slice(0, 2) },
  { name: 'index_select', inputs: (g) => ({ x: g.r([5, 3]), i: g.ints([4], 0, 5) }), grad: ['x'], run: (t) => t.x!.indexSelect(0, t.i!) },
  { name: 'gather', inputs: (g) => ({ x: g.r([3, 5]), i: g.ints([3, 4], 0, 5) }), grad: ['x'], run: (t) => t.x!.gather(1, t.i!) },
  { name: 'index', inputs: (g) => ({ x: g.r([5, 3]), i: g.ints([2, 2], 0, 5) }), grad: ['x'], run: (t) => t.x!.index([t.i!]) },
  { name: 'masked_fill', inputs: (g) => ({ x: g.r([3, 4]), m: g.bools([3, 4]) }), grad: ['x'], run: (t) => t.x!.maskedFill(t.m!, -7.5) },
  { name: 'masked_fill/broadcast', inputs: (g) => ({ x: g.r([3, 4]), m: g.bools([4]) }), grad: ['x'], run: (t) => t.x!.maskedFill(t.m!, 2) },
  { name: 'masked_select', inputs: (g) => ({ x: g.r([3, 4]), m: g.bools([3, 4]) }), grad: ['x'], run: (t) => t.x!.maskedSelect(t.m!) },
  { name: 'where', inputs: (g) => ({ c: g.bools([3, 1]), x: g.r([3, 4]), y: g.r([4]) }), grad: ['x', 'y'], run: (t) => where(t.c!, t.x!, t.y!) },
  { name: 'where/scalars', inputs: (g) => ({ c: g.bools([3, 4]), x: g.r([3, 4]) }), grad: ['x'], run: (t) => ({ a: where(t.c!, t.x!, 0.5), b: where(t.c!, 2, t.x!) }) },
  { name: 'expand', inputs: (g) => ({ x: g.r([3, 1]) }), grad: ['x'], run: (t) => t.x!.expand([2, 3, 4]) },
  { name: 'repeat', inputs: (g) => ({ x: g.r([2, 3]) }), grad: ['x'], run: (t) => t.x!.repeat([2, 1, 2]) },
  { name: 'flip', inputs: x234, grad: ['x'], run: (t) => F.flip(t.x!, [0, 2]) },
];

const UNARY = ['neg', 'abs', 'exp', 'sigmoid', 'tanh', 'relu', 'sign', 'floor', 'ceil', 'round', 'sin', 'cos'] as const;
const POSITIVE = ['log', 'sqrt', 'rsqrt', 'reciprocal'] as const;
const CMP = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** Small integers as floats, so comparisons see ties. */
const ties = (g: Gen) => ({ x: g.ints([3, 4], -2, 3).float(), y: g.ints([4], -2, 3).float() });

const math: ParityCase[] = [
  { name: 'add/broadcast', inputs: xy([3, 1], [1, 4]), grad: ['x', 'y'], run: (t) => t.x!.add(t.y!) },
  { name: 'add/alpha', inputs: xy([2, 3, 4], [4]), grad: ['x', 'y'], run: (t) => t.x!.add(t.y!, -2.5) },
  { name: 'add/scalar', inputs: x234, grad: ['x'], run: (t) => t.x!.add(0.25) },
  { name: 'sub', inputs: xy([3, 4], [3, 1]), grad: ['x', 'y'], run: (t) => t.x!.sub(t.y!, 3) },
  { name: 'sub/scalar', inputs: x234, grad: ['x'], run: (t) => t.x!.sub(1.5) },
  { name: 'mul', inputs: xy([2, 1, 4], [3, 1]), grad: ['x', 'y'], run: (t) => t.x!.mul(t.y!) },
  { name: 'mul/scalar', inputs: x234, grad: ['x'], run: (t) => t.x!.mul(-3) },
  { name: 'div', inputs: xy([3, 4], [4], 0.5, 2), grad: ['x', 'y'], run: (t) => t.x!.div(t.y!) },
  { name: 'div/scalar', inputs: x234, grad: ['x'], run: (t) => t.x!.div(7) },
  { name: 'pow/scalar', inputs: x234, grad: ['x'], run: (t) => t.x!.pow(3) },
  { name: 'pow/tensor', inputs: xy([3, 4], [4], 0.5, 2), grad: ['x', 'y'], run: (t) => t.x!.pow(t.y!) },
  { name: 'maximum', inputs: xy([3, 4], [4]), grad: ['x', 'y'], run: (t) => t.x!.maximum(t.y!) },
  { name: 'minimum', inputs: xy([3, 4], [3, 1]), grad: ['x', 'y'], run: (t) => t.x!.minimum(t.y!) },
  { name: 'clamp', inputs: x234, grad: ['x'], run: (t) => t.x!.clamp(-0.5, 0.3) },
  { name: 'clamp/min', inputs: x234, grad: ['x'], run: (t) => t.x!.clamp(0.1) },
  ...UNARY.map((op): ParityCase => ({ name: `unary/${op}`, inputs: (g) => ({ x: g.r([3, 5], -3, 3) }), grad: ['x'], run: (t) => t.x!.unary(op) })),
  ...POSITIVE.map((op): ParityCase => ({ name: `unary/${op}`, inputs: (g) => ({ x: g.r([3, 5], 0.2, 4) }), grad: ['x'], run: (t) => t.x!.unary(op) })),
  { name: 'int/add', inputs: (g) => ({ a: g.ints([3, 4], -50, 50), b: g.ints([4], -50, 50) }), run: (t) => t.a!.add(t.b!, 3) },
  { name: 'int/mul-scalar', inputs: (g) => ({ a: g.ints([5], -9, 9, 'int32') }), run: (t) => t.a!.mul(7) },
  { name: 'int/div-promotes', inputs: (g) => ({ a: g.ints([5], -9, 9), b: g.ints([5], 1, 5) }), run: (t) => t.a!.div(t.b!) },
  { name: 'int/add-float-scalar', inputs: (g) => ({ a: g.ints([5], -9, 9) }), run: (t) => t.a!.add(0.5) },
  { name: 'int/float-promotes', inputs: (g) => ({ a: g.ints([2, 3], 0, 9, 'uint8'), x: g.r([3]) }), grad: ['x'], run: (t) => t.a!.mul(t.x!) },
  ...CMP.map((op): ParityCase => ({ name: `cmp/${op}`, inputs: ties, run: (t) => ({ tensor: t.x![op](t.y!), scalar: t.x![op](1) }) })),
  { name: 'logical_not', inputs: (g) => ({ m: g.bools([6]) }), run: (t) => t.m!.unary('logical_not') },
  { name: 'isfinite', inputs: (g) => ({ x: g.r([4]) }), run: (t) => t.x!.div(t.x!.sub(0.2).unary('relu')).unary('isfinite') },
];

const reductions: ParityCase[] = [
  { name: 'sum', inputs: x234, grad: ['x'], run: (t) => t.x!.sum() },
  { name: 'sum/dim-keepdim', inputs: x234, grad: ['x'], run: (t) => t.x!.sum(1, true) },
  { name: 'sum/dims', inputs: x234, grad: ['x'], run: (t) => t.x!.sum([0, 2]) },
  { name: 'sum/int64', inputs: (g) => ({ a: g.ints([4, 5], -1000, 1000) }), run: (t) => ({ all: t.a!.sum(), dim: t.a!.sum(0) }) },
  { name: 'sum/bool', inputs: (g) => ({ m: g.bools([4, 5]) }), run: (t) => t.m!.sum(1) },
  { name: 'mean', inputs: x234, grad: ['x'], run: (t) => t.x!.mean() },
  { name: 'mean/dim', inputs: x234, grad: ['x'], run: (t) => t.x!.mean(-1) },
  { name: 'mean/dims-keepdim', inputs: x234, grad: ['x'], run: (t) => t.x!.mean([0, 1], true) },
  { name: 'mean/float64', inputs: (g) => ({ x: g.r([50], -1, 1, 'float64') }), grad: ['x'], run: (t) => t.x!.mean() },
  { name: 'std', inputs: x234, grad: ['x'], run: (t) => t.x!.std() },
  { name: 'std/dim-biased-keepdim', inputs: x234, grad: ['x'], run: (t) => t.x!.std(1, false, true) },
  { name: 'max', inputs: x234, grad: ['x'], run: (t) => t.x!.max() },
  { name: 'max/dim', inputs: x234, grad: ['x'], run: (t) => t.x!.max(1) },
  { name: 'max/dim-keepdim', inputs: x234, grad: ['x'], run: (t) => t.x!.max(-1, true) },
  { name: 'min', inputs: x234, grad: ['x'], run: (t) => t.x!.min() },
  { name: 'min/dim', inputs: x234, grad: ['x'], run: (t) => t.x!.min(0) },
  { name: 'argmax', inputs: x234, run: (t) => t.x!.argmax() },
  { name: 'argmax/dim-keepdim', inputs: x234, run: (t) => t.x!.argmax(2, true) },
  { name: 'argmin/dim', inputs: x234, run: (t) => t.x!.argmin(1) },
  { name: 'max/int64', inputs: (g) => ({ a: g.ints([4, 5], -1000, 1000) }), run: (t) => ({ all: t.a!.max(), dim: t.a!.max(1).values }) },
];

const matmul: ParityCase[] = [
  { name: 'matmul/2d', inputs: xy([5, 7], [7, 3]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/batched-broadcast', inputs: xy([4, 5, 7], [7, 3]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/batched', inputs: xy([2, 1, 5, 7], [3, 7, 2]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/vec-mat', inputs: xy([7], [7, 3]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/mat-vec', inputs: xy([5, 7], [7]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/dot', inputs: xy([9], [9]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/float64', inputs: (g) => ({ x: g.r([6, 8], -1, 1, 'float64'), y: g.r([8, 4], -1, 1, 'float64') }), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
  { name: 'matmul/large-k', inputs: xy([16, 300], [300, 12]), grad: ['x', 'y'], run: (t) => t.x!.matmul(t.y!) },
];

const xyz = (g: Gen) => ({ x: g.r([3, 4]), a: g.r([3, 4]), b: g.r([4], 0.5, 2) });
const inPlace: ParityCase[] = [
  { name: 'add_', inputs: xyz, grad: ['x', 'a'], run: (t) => t.x!.clone().add_(t.a!, 0.5) },
  { name: 'add_/scalar', inputs: xyz, grad: ['x'], run: (t) => t.x!.clone().add_(2) },
  { name: 'sub_', inputs: xyz, grad: ['x', 'b'], run: (t) => t.x!.clone().sub_(t.b!) },
  { name: 'mul_', inputs: xyz, grad: ['x', 'b'], run: (t) => t.x!.clone().mul_(t.b!) },
  { name: 'mul_/scalar', inputs: xyz, grad: ['x'], run: (t) => t.x!.clone().mul_(0.9) },
  { name: 'div_', inputs: xyz, grad: ['x', 'b'], run: (t) => t.x!.clone().div_(t.b!) },
  { name: 'addcmul_', inputs: xyz, grad: ['x', 'a', 'b'], run: (t) => t.x!.clone().addcmul_(t.a!, t.b!, -0.3) },
  { name: 'addcdiv_', inputs: xyz, grad: ['x', 'a', 'b'], run: (t) => t.x!.clone().addcdiv_(t.a!, t.b!, 0.7) },
  { name: 'zero_', inputs: xyz, grad: ['x'], run: (t) => t.x!.mul(2).zero_().add(t.x!) },
  { name: 'copy_/broadcast', inputs: xyz, grad: ['x', 'b'], run: (t) => t.x!.clone().copy_(t.b!) },
  { name: 'copy_/cast', inputs: (g) => ({ x: g.r([3, 4], -3, 3), i: g.ints([3, 4], -9, 9) }), run: (t) => ({ f: t.x!.clone().copy_(t.i!), i: t.i!.clone().copy_(t.x!) }) },
  { name: 'fill_', inputs: xyz, run: (t) => t.x!.clone().fill_(3.25) },
  { name: 'clamp_', inputs: xyz, grad: ['x'], run: (t) => t.x!.clone().clamp_(-0.2, 0.4) },
];

const random: ParityCase[] = [
  { name: 'rand', seed: 1, run: () => rand([1000]) },
  { name: 'rand/float64', seed: 2, run: () => rand([3, 5], { dtype: 'float64' }) },
  { name: 'randn', seed: 3, run: () => randn([1000]) },
  { name: 'randn/small', seed: 4, run: () => randn([7]) },
  { name: 'randn/sequence', seed: 5, run: () => ({ a: randn([3, 4]), b: rand([5]), c: randn([20]) }) },
  { name: 'randint', seed: 6, run: () => randint(-3, 10, [200]) },
  { name: 'randint/int32', seed: 7, run: () => randint(0, 5, [2, 9], { dtype: 'int32' }) },
  { name: 'randperm', seed: 8, run: () => randperm(20) },
  { name: 'randperm/large', seed: 9, run: () => randperm(5000) },
  { name: 'bernoulli/tensor', seed: 10, inputs: (g) => ({ p: g.r([500], 0, 1) }), run: (t) => bernoulli(t.p!) },
  { name: 'bernoulli/scalar', seed: 11, inputs: (g) => ({ x: g.r([500]) }), run: (t) => bernoulli(t.x!, 0.3) },
];

const CASES = [...creation, ...views, ...math, ...reductions, ...matmul, ...inPlace, ...random];
let results = new Map<string, CaseResult>();
let pythonOnly: string[] = [];

before(() => {
  ({ results, pythonOnly } = runParity(CASES, 'ops_cases_tensor'));
});

test('every Python twin has a TS case', () => {
  assert.deepEqual(pythonOnly, []);
});

for (const c of CASES) test(c.name, () => assertParity(c, results.get(c.name)!));
