// Optimizer parity with PyTorch 1.13: the same initial weights and the same 10 steps of
// gradients (some parameters skipped on some steps) end on the same weights, for SGD
// variants, Adam and AdamW (with AMSGrad), with two parameter groups. Resuming from a state
// dict written to disk mid-way, and the _foreach_ form, give identical weights.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPeer, type PeerResult } from './helpers/peer.js';
import { assertClose } from './helpers/assert-close.js';
import type { Optimizer, OptimizerStateDict } from '../src/optim/index.js';
import { caseName, makeCaseOptimizer, toPython, type OptimCase } from './helpers/optim-cases.js';
import { liveTensors, disposeAll, tidy, type Tensor } from '../src/tensor/index.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';

const CASES: OptimCase[] = [
  { optimizer: 'SGD', options: { lr: 0.1, momentum: 0.9 } },
  { optimizer: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2 } },
  { optimizer: 'SGD', options: { lr: 0.05, momentum: 0.8, dampening: 0.1, weightDecay: 5e-4, maximize: true } },
  { optimizer: 'SGD', options: { lr: 0.1 }, groupLrs: [0.3, 0.01] },
  { optimizer: 'Adam', options: { lr: 1e-2 } },
  { optimizer: 'Adam', options: { lr: 3e-3, weightDecay: 1e-2, amsgrad: true }, groupLrs: [1e-2, 1e-3] },
  { optimizer: 'AdamW', options: { lr: 1e-2 } },
  { optimizer: 'AdamW', options: { lr: 5e-3, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1, amsgrad: true, maximize: true } },
];

let peer: PeerResult;
let steps: number;
let noGrad: Record<string, number[]>;
let scratch: string;

before(() => {
  peer = runPeer('optim_parity.py', [JSON.stringify(CASES.map(toPython))]);
  steps = peer.meta.steps as number;
  noGrad = peer.meta.noGrad as Record<string, number[]>;
  scratch = mkdtempSync(join(tmpdir(), 'tlcv-optim-'));
});

after(() => {
  disposeAll(peer.tensors);
  rmSync(scratch, { recursive: true, force: true });
});

const peerTensor = (name: string): Tensor => {
  const t = peer.tensors.get(name);
  assert.ok(t, `peer tensor ${name}`);
  return t;
};

const makeOptimizer = (c: OptimCase, params: Tensor[], foreach: boolean): Optimizer => makeCaseOptimizer(c, params, { foreach });

/** Writes the state dict as a safetensors file plus JSON, as a checkpoint does, and reads it back. */
function roundTrip(sd: OptimizerStateDict): OptimizerStateDict {
  const file = join(scratch, 'optim.safetensors');
  writeSafetensors(file, sd.tensors);
  writeFileSync(`${file}.json`, JSON.stringify(sd.meta));
  return { tensors: readSafetensors(file), meta: JSON.parse(readFileSync(`${file}.json`, 'utf8')) };
}

function runTlcv(c: OptimCase, o: { foreach?: boolean; resumeAt?: number } = {}): Tensor[] {
  const params = [0, 1, 2, 3, 4].map((i) => peerTensor(`init.${i}`).clone().requiresGrad_(true));
  let opt = makeOptimizer(c, params, o.foreach ?? false);
  for (let step = 0; step < steps; step += 1) {
    if (step === o.resumeAt) {
      const saved = roundTrip(opt.stateDict());
      opt.dispose();
      opt = makeOptimizer(c, params, o.foreach ?? false);
      opt.loadStateDict(saved);
      disposeAll(saved.tensors);
    }
    opt.zeroGrad();
    params.forEach((p, i) => {
      if (!(noGrad[String(i)] ?? []).includes(step)) p.grad = peerTensor(`grad.${step}.${i}`);
    });
    opt.step();
  }
  opt.dispose();
  return params;
}

CASES.forEach((c, k) => {
  test(`${caseName(c)} ends on PyTorch's weights`, () => {
    const live = liveTensors().count;
    const params = runTlcv(c);
    tidy(() => params.forEach((p, i) => assertClose(p.detach(), peerTensor(`case${k}.${i}`), { rtol: 1e-5, atol: 1e-7, what: `case ${k} param ${i}` })));
    // The untouched-by-step parameters moved: the comparison is not vacuous.
    assert.notDeepEqual(params[0]!.toFlatArray(), peerTensor('init.0').toFlatArray());
    disposeAll(params);
    assert.equal(liveTensors().count, live, 'no tensors leak from the optimizer');
  });
});

test('resuming from a state dict written to disk mid-way gives the uninterrupted weights exactly', () => {
  for (const k of [1, 5, 7]) {
    const straight = runTlcv(CASES[k]!);
    const resumed = runTlcv(CASES[k]!, { resumeAt: 4 });
    straight.forEach((p, i) => assert.deepEqual(resumed[i]!.toFlatArray(), p.toFlatArray(), `case ${k} param ${i}`));
    disposeAll([straight, resumed]);
  }
});

test('the _foreach_ form gives the per-tensor form bit for bit', () => {
  for (const k of [2, 5, 7]) {
    const a = runTlcv(CASES[k]!, { foreach: true });
    const b = runTlcv(CASES[k]!, { foreach: false });
    a.forEach((p, i) => assert.deepEqual(b[i]!.toFlatArray(), p.toFlatArray(), `case ${k} param ${i}`));
    disposeAll([a, b]);
  }
});
