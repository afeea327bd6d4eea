// The fused optimizer step (one native pass per parameter, all parameters in one call) against
// PyTorch 1.13 over 100 steps, on parameters large enough to span several vector widths and
// work chunks, one of them channels-last with contiguous gradients (the copy path). It must
// match torch.optim within 1e-6 relative, as the per-op path does; the test also reports how
// many elements are bit-identical. Then: the paths share state dicts, parameters the fused
// step cannot take (bf16) fall back to the per-op path, and nothing leaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPeer, type PeerResult } from './helpers/peer.js';
import { assertClose } from './helpers/assert-close.js';
import { AdamW, SGD, type Optimizer } from '../src/optim/index.js';
import { caseName, makeCaseOptimizer, toPython, type OptimCase } from './helpers/optim-cases.js';
import { disposeAll, liveTensors, manualSeed, randn, tidy, type Tensor } from '../src/tensor/index.js';

// The trainer's defaults (AdamW 1e-3, weight decay 1e-4), discriminative rates, and the spec's SGD recipe.
const CASES: OptimCase[] = [
  { optimizer: 'AdamW', options: { lr: 1e-3, weightDecay: 1e-4 }, groupLrs: [1e-4, 1e-3] },
  { optimizer: 'AdamW', options: { lr: 2e-3, betas: [0.9, 0.99], eps: 1e-6, weightDecay: 0.05 } },
  { optimizer: 'Adam', options: { lr: 1e-3, weightDecay: 1e-4 } },
  { optimizer: 'SGD', options: { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }, groupLrs: [0.001, 0.01] },
  { optimizer: 'SGD', options: { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 } },
  { optimizer: 'SGD', options: { lr: 0.05 } },
];

let peer: PeerResult;
let steps: number;

before(() => {
  peer = runPeer('optim_parity.py', [JSON.stringify(CASES.map(toPython)), 'long']);
  steps = peer.meta.steps as number;
});

after(() => disposeAll(peer.tensors));

const peerTensor = (name: string): Tensor => {
  const t = peer.tensors.get(name);
  assert.ok(t, `peer tensor ${name}`);
  return t;
};

const makeOptimizer = (c: OptimCase, params: Tensor[], fused: boolean): Optimizer => makeCaseOptimizer(c, params, { fused });

/** The peer's 100 steps, with the same seeded gradients; parameter 0 is channels-last here. */
function runTlcv(c: OptimCase, o: { fused: boolean; swapAt?: number }): Tensor[] {
  const params = tidy(() => [0, 1, 2, 3].map((i) => {
    const p = peerTensor(`init.${i}`);
    return (i === 0 ? p.contiguous('channelsLast') : p.clone()).requiresGrad_(true);
  }));
  let opt = makeOptimizer(c, params, o.fused);
  const first = opt;
  for (let step = 0; step < steps; step += 1) {
    if (step === o.swapAt) {
      // The other path takes over from this one's state dict.
      const sd = opt.stateDict();
      const next = makeOptimizer(c, params, !o.fused);
      next.loadStateDict(sd);
      opt.dispose();
      opt = next;
    }
    opt.zeroGrad();
    manualSeed(10000 + step);
    // The parameter holds its gradient; the JS handle goes with the scope.
    tidy(() => {
      for (const p of params) p.grad = randn(p.shape);
    });
    opt.step();
    assert.deepEqual(opt.lastStepPaths, opt === first ? { fused: 4 * Number(o.fused), perOp: 4 * Number(!o.fused) } : { fused: 4 * Number(!o.fused), perOp: 4 * Number(o.fused) });
    for (const p of params) p.grad = null;
  }
  opt.dispose();
  return params;
}

function bitIdentical(a: Tensor, b: Tensor): number {
  const x = a.toFlatArray();
  const y = b.toFlatArray();
  return x.reduce((n: number, v, i) => n + (Object.is(v, y[i]) ? 1 : 0), 0);
}

CASES.forEach((c, k) => {
  test(`fused ${caseName(c)}: PyTorch's weights after 100 steps, within 1e-6`, (t) => {
    const live = liveTensors().count;
    for (const fused of [true, false]) {
      const params = runTlcv(c, { fused });
      let same = 0;
      let total = 0;
      tidy(() =>
        params.forEach((p, i) => {
          const expected = peerTensor(`case${k}.${i}`);
          assertClose(p.detach().contiguous(), expected, { rtol: 1e-6, atol: 1e-9, what: `case ${k} param ${i} (${fused ? 'fused' : 'per-op'})` });
          same += bitIdentical(p.detach().contiguous(), expected);
          total += p.numel;
        }),
      );
      t.diagnostic(`${fused ? 'fused' : 'per-op'}: ${same} of ${total} elements bit-identical to PyTorch`);
      // The weights moved far from where they started: the comparison is not vacuous.
      assert.ok(tidy(() => params[2]!.detach().sub(peerTensor('init.2')).abs().max().item()) > 1e-3);
      disposeAll(params);
    }
    assert.equal(liveTensors().count, live, 'no tensors leak from either path');
  });
});

test('the fused and per-op paths continue from each other\'s state dicts to the same weights', () => {
  for (const k of [0, 3]) {
    const straight = runTlcv(CASES[k]!, { fused: true });
    const swapped = runTlcv(CASES[k]!, { fused: false, swapAt: 50 });
    tidy(() => straight.forEach((p, i) => assertClose(swapped[i]!.detach(), p.detach(), { rtol: 1e-6, atol: 1e-9, what: `case ${k} param ${i}` })));
    disposeAll([straight, swapped]);
  }
});

test('bf16 parameters take the per-op path and match it; fused and foreach cannot both be asked for', () => {
  const live = liveTensors().count;
  const run = (fused: boolean): number[] => {
    const w = tidy(() => peerTensor('init.1').to({ dtype: 'bfloat16' }).requiresGrad_(true));
    const opt = new AdamW([w], { lr: 1e-2, weightDecay: 0.1, fused });
    for (let step = 0; step < 5; step += 1) {
      tidy(() => {
        w.grad = peerTensor('init.1').mul(step + 1).to({ dtype: 'bfloat16' });
      });
      opt.step();
      assert.deepEqual(opt.lastStepPaths, { fused: 0, perOp: 1 });
      opt.zeroGrad();
    }
    opt.dispose();
    const out = tidy(() => w.float().toFlatArray());
    w.dispose();
    return out;
  };
  const a = run(true);
  assert.deepEqual(a, run(false));
  assert.notDeepEqual(a, tidy(() => peerTensor('init.1').to({ dtype: 'bfloat16' }).float().toFlatArray()));
  assert.equal(liveTensors().count, live);
  const w = tidy(() => peerTensor('init.1').clone().requiresGrad_(true));
  assert.throws(() => new SGD([w], { lr: 0.1, fused: true, foreach: true }), /fused and foreach/);
  w.dispose();
});
