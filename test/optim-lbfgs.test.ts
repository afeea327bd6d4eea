// L-BFGS parity with PyTorch 1.13's torch.optim.LBFGS on a float64 logistic regression:
// fixed steps and the strong-Wolfe line search, a short history, and several step calls
// (state carried over) end on PyTorch's weights with its evaluation and iteration counts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPeer, type PeerResult } from './helpers/peer.js';
import { assertClose } from './helpers/assert-close.js';
import { LBFGS, cubicInterpolate, type LBFGSOptions } from '../src/optim/lbfgs.js';
import { F, disposeAll, liveTensors, tidy, zeros, type Tensor } from '../src/tensor/index.js';

interface Case {
  options: LBFGSOptions;
  steps: number;
}

const CASES: Case[] = [
  { options: { lr: 0.5, maxIter: 20 }, steps: 3 },
  { options: { maxIter: 100, lineSearch: 'strong-wolfe' }, steps: 1 },
  { options: { maxIter: 15, historySize: 3, lineSearch: 'strong-wolfe' }, steps: 2 },
  { options: { lr: 0.8, maxIter: 50, maxEval: 30, toleranceChange: 1e-6, lineSearch: 'strong-wolfe' }, steps: 1 },
  // Trial steps far too long (the zoom phase) and far too short (the bracketing phase extrapolates).
  { options: { lr: 30, maxIter: 30, lineSearch: 'strong-wolfe' }, steps: 1 },
  { options: { lr: 0.02, maxIter: 30, lineSearch: 'strong-wolfe' }, steps: 1 },
];

const SNAKE: Record<string, string> = { maxIter: 'max_iter', maxEval: 'max_eval', historySize: 'history_size', toleranceChange: 'tolerance_change', lineSearch: 'line_search_fn' };
const toPython = (c: Case): unknown => ({
  steps: c.steps,
  options: Object.fromEntries(Object.entries(c.options).map(([k, v]) => [SNAKE[k] ?? k, v === 'strong-wolfe' ? 'strong_wolfe' : v])),
});

let peer: PeerResult;
before(() => {
  peer = runPeer('lbfgs_parity.py', [JSON.stringify(CASES.map(toPython))]);
});
after(() => disposeAll(peer.tensors));

const peerTensor = (name: string): Tensor => {
  const t = peer.tensors.get(name);
  assert.ok(t, `peer tensor ${name}`);
  return t;
};

CASES.forEach((c, k) => {
  test(`LBFGS case ${k} (${JSON.stringify(c.options)}, ${c.steps} step calls) ends where PyTorch's does`, () => {
    const x = peerTensor('x');
    const y = peerTensor('y');
    const l2 = peer.meta.l2 as number;
    const expected = (peer.meta.cases as { losses: number[]; funcEvals: number; iterations: number }[])[k]!;
    const before = liveTensors().count;
    const w = zeros([3, 6], { dtype: 'float64' }).requiresGrad_();
    const b = zeros([3], { dtype: 'float64' }).requiresGrad_();
    const opt = new LBFGS([w, b], c.options);
    const closure = (): number => {
      w.grad = null;
      b.grad = null;
      return tidy(() => {
        const loss = F.crossEntropy(F.linear(x, w, b), y).add(w.pow(2).sum().mul(0.5 * l2));
        loss.backward();
        return loss.item();
      });
    };
    const losses = Array.from({ length: c.steps }, () => opt.step(closure));
    assertClose(w, peerTensor(`case${k}.w`), { rtol: 1e-9, atol: 1e-10, what: 'weight' });
    assertClose(b, peerTensor(`case${k}.b`), { rtol: 1e-9, atol: 1e-10, what: 'bias' });
    losses.forEach((l, i) => assert.ok(Math.abs(l - expected.losses[i]!) <= 1e-12 * Math.max(1, Math.abs(l)), `loss of step ${i}: ${l} vs ${expected.losses[i]}`));
    assert.equal(opt.funcEvals, expected.funcEvals, 'function evaluations');
    assert.equal(opt.iterations, expected.iterations, 'iterations');
    if (k >= 4) assert.ok(opt.funcEvals > opt.iterations + 5, `the line search searched (${opt.funcEvals} evaluations in ${opt.iterations} iterations)`);
    opt.dispose();
    w.grad = null;
    b.grad = null;
    w.dispose();
    b.dispose();
    assert.equal(liveTensors().count, before, 'live tensors after dispose');
  });
});

test('cubic interpolation finds the minimum of a cubic and falls back to the midpoint', () => {
  // f(x) = (x - 1)^2 (a cubic with zero cubic term): the minimiser is exactly 1.
  const f = (v: number): number => (v - 1) ** 2;
  const g = (v: number): number => 2 * (v - 1);
  assert.ok(Math.abs(cubicInterpolate(0, f(0), g(0), 3, f(3), g(3)) - 1) < 1e-12);
  // Both slopes -10 and a drop that leaves the cubic no stationary point: the midpoint of the bounds.
  assert.equal(cubicInterpolate(0, 0, -10, 1, -20 / 3, -10, [0, 4]), 2);
});
