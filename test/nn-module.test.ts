import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, Sequential, init } from '../src/nn/index.js';
import { TlcvError } from '../src/errors.js';
import { disposeAll, invoke, keep, liveTensors, manualSeed, noGrad, randn, tensor, tidy, zeros, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';

/** A small conv net whose names mirror what torchvision would write for it. */
class Net extends Module {
  constructor() {
    super();
    this.registerModule('conv', new Conv2d(3, 4, 3, { padding: 1 }));
    this.registerModule('bn', new BatchNorm2d(4));
    this.registerModule('head', new Sequential({ pool: new MaxPool2d(4), flat: new Flatten(), drop: new Dropout(0.3), fc: new Linear(4, 2) }));
  }
  forward(x: Tensor): Tensor {
    return this.child('head').forward(new ReLU().forward(this.child('bn').forward(this.child('conv').forward(x))));
  }
}

const weightsError = (...parts: string[]) => (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && parts.every((p) => e.message.includes(p));

test('names, order and kinds of state follow PyTorch', () => {
  const net = new Net();
  try {
    assert.deepEqual(
      [...net.stateDict().keys()],
      ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'head.fc.weight', 'head.fc.bias'],
    );
    assert.equal(net.stateDict().get('bn.num_batches_tracked')!.dtype, 'int64');
    assert.deepEqual([...net.namedParameters().keys()], ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'head.fc.weight', 'head.fc.bias']);
    assert.deepEqual([...net.namedBuffers().keys()], ['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    assert.deepEqual([...net.namedModules().keys()], ['', 'conv', 'bn', 'head', 'head.pool', 'head.flat', 'head.drop', 'head.fc']);
    assert.equal(net.children().length, 3);
    assert.ok(net.getSubmodule('head.fc') instanceof Linear);
    assert.equal(new Sequential([new ReLU(), new Identity()]).namedChildren().has('1'), true);
    assert.throws(() => net.getSubmodule('head.fc2'), (e: unknown) => e instanceof TlcvError && /"head" has no child "fc2" \(children: pool, flat, drop, fc\)/.test(e.message));
    assert.equal(net.numParameters(), 4 * 3 * 9 + 4 + 4 + 4 + 4 * 2 + 2);
    // Live references: the state dict is the parameters themselves.
    assert.equal(net.stateDict().get('conv.weight'), net.namedParameters().get('conv.weight'));
    net.eval();
    assert.ok([...net.namedModules().values()].every((m) => !m.training));
    net.train();
    assert.ok([...net.namedModules().values()].every((m) => m.training));
  } finally {
    net.dispose();
  }
});

test('loadStateDict copies in place, casts dtype, and reports by name and shape', () => {
  const before = liveTensors().count;
  const a = new Net();
  const b = new Net();
  try {
    const weightBefore = b.stateDict().get('conv.weight')!;
    const sd = tidy(() => {
      const out: Record<string, Tensor> = {};
      for (const [k, v] of a.stateDict()) out[k] = keep(v.dtype === 'float32' ? v.to('float64') : v.clone());
      return out;
    });
    sd['bn.num_batches_tracked']!.dispose();
    delete sd['bn.num_batches_tracked']; // older checkpoints lack it; PyTorch fills it in
    b.stateDict().get('bn.num_batches_tracked')!.fill_(5);
    const report = b.loadStateDict(sd);
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    assert.equal(b.stateDict().get('conv.weight'), weightBefore, 'copied into the same tensor');
    assert.equal(weightBefore.dtype, 'float32');
    assertClose(weightBefore, a.stateDict().get('conv.weight')!, { rtol: 0, atol: 0 });
    assert.equal(b.stateDict().get('bn.num_batches_tracked')!.item(), 0);
    disposeAll(sd);

    const bad = tidy(() => ({ 'conv.weight': keep(zeros([4, 1, 3, 3])), extra: keep(zeros([1])) }));
    const untouched = tidy(() => b.stateDict().get('conv.bias')!.clone().keep());
    assert.throws(
      () => b.loadStateDict(bad),
      weightsError('missing keys: conv.bias', 'unexpected keys: extra', 'conv.weight (model [4, 3, 3, 3], file [4, 1, 3, 3])'),
    );
    const loose = b.loadStateDict(bad, { strict: false });
    assert.deepEqual(loose.mismatched, [{ name: 'conv.weight', expected: [4, 3, 3, 3], found: [4, 1, 3, 3] }]);
    assert.deepEqual(loose.unexpected, ['extra']);
    assert.equal(loose.missing.length, 7, 'everything but conv.weight and the optional num_batches_tracked');
    assertClose(b.stateDict().get('conv.bias')!, untouched, { rtol: 0, atol: 0, what: 'a missing key keeps its value' });
    disposeAll([bad, untouched]);
  } finally {
    a.dispose();
    b.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test('setSubmodule disposes what it replaces; dispose frees every tensor', () => {
  const before = liveTensors().count;
  const net = new Net();
  const oldFc = net.getSubmodule('head.fc');
  const oldWeight = oldFc.parameters()[0]!;
  net.setSubmodule('head.fc', new Linear(4, 5));
  assert.ok(oldWeight.isDisposed);
  assert.deepEqual(net.namedParameters().get('head.fc.weight')!.shape, [5, 4]);
  tidy(() => assert.deepEqual(net.forward(randn([2, 3, 4, 4])).shape, [2, 5]));
  assert.throws(() => net.setSubmodule('head.nothing', new ReLU()), (e: unknown) => e instanceof TlcvError && e.code === 'MODEL');
  net.dispose();
  assert.ok(net.isDisposed);
  assert.equal(liveTensors().count, before);
});

test('to() casts floating state only, keeps names and trainability, and can go channels-last', () => {
  const before = liveTensors().count;
  const net = new Net();
  net.freeze(['conv']);
  net.to({ dtype: 'float64', memoryFormat: 'channelsLast' });
  const sd = net.stateDict();
  assert.equal(sd.get('conv.weight')!.dtype, 'float64');
  assert.equal(sd.get('bn.num_batches_tracked')!.dtype, 'int64');
  assert.equal(net.namedParameters().get('conv.weight')!.requiresGrad, false);
  assert.equal(net.namedParameters().get('head.fc.weight')!.requiresGrad, true);
  assert.equal(invoke('stride.int', [sd.get('conv.weight')!, 1]), 1, 'channels-last: the channel stride is 1');
  tidy(() => assert.equal(net.forward(randn([1, 3, 4, 4]).to('float64')).dtype, 'float64'));
  net.dispose();
  assert.equal(liveTensors().count, before, 'the replaced tensors were freed');
});

test('default init follows PyTorch: bounds of kaiming_uniform(a=sqrt(5)) and bias, seeded', () => {
  manualSeed(4);
  const conv = new Conv2d(8, 16, 3);
  manualSeed(4);
  const again = new Conv2d(8, 16, 3);
  const lin = new Linear(100, 10);
  try {
    const bound = 1 / Math.sqrt(8 * 9);
    tidy(() => {
      assert.ok(conv.weight.abs().max().item() <= bound);
      assert.ok(conv.weight.abs().max().item() > 0.9 * bound, 'the draws fill the range');
      assert.ok(conv.bias!.abs().max().item() <= bound);
      assert.ok(lin.weight.abs().max().item() <= 0.1);
      assertClose(conv.weight, again.weight, { rtol: 0, atol: 0, what: 'same seed, same weights' });
      const w = zeros([256, 128, 3, 3]);
      init.kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu' });
      const std = w.std().item();
      const expected = Math.sqrt(2) / Math.sqrt(256 * 9);
      assert.ok(Math.abs(std - expected) / expected < 0.01, `kaiming normal std ${std} vs ${expected}`);
      init.xavierUniform_(w);
      assert.ok(w.abs().max().item() <= Math.sqrt(6 / (128 * 9 + 256 * 9)));
    });
  } finally {
    [conv, again, lin].forEach((m) => m.dispose());
  }
});

test('BatchNorm2d: momentum, cumulative average, and eval uses running statistics', () => {
  const bn = new BatchNorm2d(2, { momentum: null });
  try {
    tidy(() => {
      const x1 = randn([4, 2, 3, 3]);
      const x2 = randn([4, 2, 3, 3]).add(2);
      bn.forward(x1);
      bn.forward(x2);
      const mean = x1.mean([0, 2, 3]).add(x2.mean([0, 2, 3])).div(2);
      assertClose(bn.runningMean!, mean, { rtol: 1e-5, atol: 1e-6, what: 'cumulative running mean' });
      assert.equal(bn.stateDict().get('num_batches_tracked')!.item(), 2);
      bn.eval();
      const x = randn([1, 2, 3, 3]);
      const expected = noGrad(() => x.sub(bn.runningMean!.view([1, 2, 1, 1])).div(bn.runningVar!.add(1e-5).sqrt().view([1, 2, 1, 1])));
      assertClose(bn.forward(x), expected, { rtol: 1e-5, atol: 1e-5, what: 'eval normalisation' });
      assert.throws(() => bn.forward(tensor([1, 2])), (e: unknown) => e instanceof TlcvError && /\[N, C, H, W\]/.test(e.message));
    });
  } finally {
    bn.dispose();
  }
});
