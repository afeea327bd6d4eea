// Optimizer behaviour beyond parity: hyperparameter validation with clear messages, skipped
// parameters, zeroGrad, state-dict checks that leave the optimizer untouched on failure,
// dispose, and a steady live-tensor count over many steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, zeros, tensor, liveTensors, tidy, disposeAll, type Tensor } from '../src/tensor/index.js';
import { TlcvError } from '../src/errors.js';
import { SGD, Adam, AdamW, StepLR } from '../src/optim/index.js';

const argError = (re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && re.test(e.message);

function params(): Tensor[] {
  return [randn([3, 2]).requiresGrad_(true), randn([2]).requiresGrad_(true)];
}

test('bad hyperparameters are argument errors naming the value, the group and the expectation', () => {
  const ps = params();
  assert.throws(() => new SGD(ps, { lr: 0 }), argError(/^Expected a learning rate > 0 for lr of SGD paramGroups\[0\] but received 0$/));
  assert.throws(() => new SGD(ps, {}), argError(/learning rate > 0 for lr .* received undefined/));
  assert.throws(() => new SGD([{ params: ps, name: 'head', lr: -1 }]), argError(/lr of SGD paramGroups\[0\] \(head\)/));
  assert.throws(() => new SGD(ps, { lr: 0.1, momentum: -0.5 }), argError(/momentum >= 0 for momentum/));
  assert.throws(() => new SGD(ps, { lr: 0.1, nesterov: true }), argError(/momentum > 0 and dampening 0 for nesterov .* received "momentum 0 and dampening 0"/));
  assert.throws(() => new SGD(ps, { lr: 0.1, weightDecay: Number.NaN }), argError(/weightDecay/));
  assert.throws(() => new Adam(ps, { betas: [0.9, 1] }), argError(/number in \[0, 1\) for betas\[1\] of Adam/));
  assert.throws(() => new AdamW(ps, { eps: -1 }), argError(/eps of AdamW/));
  assert.throws(() => new Adam([]), argError(/non-empty array/));
  assert.throws(() => new Adam([{ params: [] }]), argError(/at least one parameter/));
  assert.throws(() => new Adam([ps[0]!, ps[0]!]), argError(/each parameter in one group only/));
  assert.throws(() => new Adam([{ params: [ps[0]!] }, { params: [ps[0]!] }]), argError(/paramGroups\[1\]\.params\[0\]/));
  const ints = tensor([1, 2], { dtype: 'int64' });
  assert.throws(() => new Adam([ints]), argError(/floating-point parameter .*"dtype int64"/));
  assert.throws(() => new Adam([{ params: [3 as unknown as Tensor] }]), argError(/Expected a Tensor for Adam paramGroups\[0\]\.params\[0\] but received 3/));
  disposeAll([ps, ints]);
});

test('groups keep their own hyperparameters; parameters without a gradient are skipped', () => {
  const [a, b] = params();
  const opt = new SGD([{ params: [a!], lr: 0.5, name: 'body' }, { params: [b!], momentum: 0.9 }], { lr: 0.1 });
  assert.deepEqual(
    opt.paramGroups.map((g) => [g.lr, g.initialLr, g.momentum, g.name]),
    [
      [0.5, 0.5, 0, 'body'],
      [0.1, 0.1, 0.9, undefined],
    ],
  );
  const before = b!.toFlatArray();
  tidy(() => a!.mul(2).sum().backward());
  opt.step();
  assert.deepEqual(b!.toFlatArray(), before, 'a parameter without grad is not touched');
  assert.deepEqual(Object.keys(opt.stateDict().meta.state), [], 'no state for SGD without momentum, nor for skipped parameters');
  assert.notEqual(a!.grad, null);
  opt.zeroGrad();
  assert.equal(a!.grad, null, 'zeroGrad sets grads to none');
  opt.dispose();
  assert.throws(() => opt.step(), (e: unknown) => e instanceof TlcvError && e.code === 'DISPOSED');
  disposeAll([a, b]);
});

test('a state dict that does not fit is refused and leaves the optimizer as it was', () => {
  const ps = params();
  const opt = new Adam(ps, { lr: 0.01 });
  tidy(() => ps[0]!.sum().add(ps[1]!.sum()).backward());
  opt.step();
  const sd = opt.stateDict();
  assert.deepEqual([...sd.tensors.keys()].sort(), ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.1.exp_avg', 'state.1.exp_avg_sq']);
  assert.equal(sd.meta.state['0']!.step, 1);
  const training = (re: RegExp) => (e: unknown) => e instanceof TlcvError && e.code === 'TRAINING' && re.test(e.message);
  const sgd = new SGD(ps, { lr: 0.1 });
  assert.throws(() => sgd.loadStateDict(sd), training(/the state is from Adam/));
  const wrongShape = new Map(sd.tensors);
  const odd = zeros([7]);
  wrongShape.set('state.1.exp_avg', odd);
  const other = new Adam(ps, { lr: 0.5 });
  assert.throws(() => other.loadStateDict({ tensors: wrongShape, meta: sd.meta }), training(/state\.1\.exp_avg has shape \[7\] but parameter 1 has shape \[2\]/));
  assert.equal(other.paramGroups[0]!.lr, 0.5, 'hyperparameters unchanged after a failed load');
  assert.deepEqual(Object.keys(other.stateDict().meta.state), []);
  const missing = new Map(sd.tensors);
  missing.delete('state.0.exp_avg_sq');
  assert.throws(() => other.loadStateDict({ tensors: missing, meta: sd.meta }), training(/state\.0\.exp_avg_sq is missing/));
  assert.throws(() => other.loadStateDict({ tensors: sd.tensors, meta: { ...sd.meta, paramGroups: [] } }), training(/expected 1 parameter groups but found 0/));
  other.loadStateDict(sd);
  assert.equal(other.paramGroups[0]!.lr, 0.01, 'a good state dict restores the lr');
  disposeAll([ps, odd]);
  [opt, sgd, other].forEach((o) => o.dispose());
});

test('many steps of Adam with a schedule keep the live-tensor count flat', () => {
  const ps = params();
  const x = randn([8, 3]);
  const opt = new AdamW(ps, { lr: 0.01 });
  const sched = new StepLR(opt, { stepSize: 50 });
  const step = (): void => {
    opt.zeroGrad();
    tidy(() => x.matmul(ps[0]!).add(ps[1]!).pow(2).mean().backward());
    opt.step();
    sched.step();
  };
  for (let i = 0; i < 5; i += 1) step();
  const live = liveTensors().count;
  for (let i = 0; i < 500; i += 1) step();
  assert.equal(liveTensors().count, live);
  assert.ok(Math.abs(opt.paramGroups[0]!.lr - 0.01 * 0.1 ** 10) < 1e-18, 'the schedule ran');
  opt.dispose();
  disposeAll([ps, x]);
});
