// dann pieces: the gradient-reversal layer is the identity forward and gives the negated,
// scaled gradient (checked with autograd); TLlib's schedule; the domain loss equals binary
// cross-entropy worked out by hand, with the reversal reaching the features and not the
// discriminator; the combined objective is the source cross-entropy plus the weighted domain
// loss, trains the backbone, and gives the same numbers from the same seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear } from '../src/nn/index.js';
import { BatchNorm1d } from '../src/nn/batchnorm1d.js';
import { GradientReversal, gradientReversal } from '../src/nn/gradient-reversal.js';
import { tensor } from '../src/tensor/index.js';
import { DannObjective, DomainDiscriminator, dannLambda, domainAdversarialLoss } from '../src/transfer/adapt/index.js';
import { F, liveTensors, manualSeed, noGrad, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { TINY_CONFIG, TinyNet } from './helpers/tiny-model.js';

test('gradient reversal: identity forward, -coeff times the gradient backward', async () => {
  const before = liveTensors().count;
  tidy(() => {
    for (const coeff of [1, 0.3, 0]) {
      const x = randn([4, 5]).requiresGrad_();
      const w = randn([4, 5]);
      const y = gradientReversal(x, coeff);
      assertClose(y, x, { atol: 0, rtol: 0, what: 'forward' });
      y.mul(w).sum().backward();
      assertClose(x.grad!, w.mul(-coeff), { atol: 1e-7, rtol: 0, what: `gradient, coeff ${coeff}` });
    }
    const layer = new GradientReversal(2);
    const x = randn([3]).requiresGrad_();
    layer.forward(x).pow(2).sum().backward();
    assertClose(x.grad!, x.detach().mul(-4), { atol: 1e-6, what: 'layer form: d(x^2)/dx reversed and doubled' });
  });
  assert.equal(liveTensors().count, before);
});

test("TLlib's schedule: lambda = 2 / (1 + exp(-10 p)) - 1", async () => {
  assert.equal(dannLambda(0), 0);
  assert.ok(Math.abs(dannLambda(0.5) - (2 / (1 + Math.exp(-5)) - 1)) < 1e-15);
  assert.ok(Math.abs(dannLambda(1) - (2 / (1 + Math.exp(-10)) - 1)) < 1e-15);
  const ps = [0, 0.05, 0.1, 0.2, 0.4, 0.7, 1];
  const ls = ps.map((p) => dannLambda(p));
  assert.ok(ls.every((l, i) => i === 0 || l > ls[i - 1]!), 'rises with progress');
  assert.equal(dannLambda(2), dannLambda(1), 'progress is clamped to [0, 1]');
  assert.ok(Math.abs(dannLambda(1, { alpha: 1, high: 0.5 }) - (1 / (1 + Math.exp(-1)) - 0.5)) < 1e-15);
});

test('the domain loss is binary cross-entropy (source 1, target 0); the reversal reaches the features only', async () => {
  manualSeed(71);
  tidy(() => {
    const d = new Linear(6, 1);
    const fs = randn([5, 6]).requiresGrad_();
    const ft = randn([3, 6]).requiresGrad_();
    const { loss, accuracy } = domainAdversarialLoss(d, fs, ft, 0.7);
    const ls = noGrad(() => d.forward(fs).reshape([-1]));
    const lt = noGrad(() => d.forward(ft).reshape([-1]));
    const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
    const s = ls.toFlatArray();
    const t = lt.toFlatArray();
    const bceS = -s.reduce((a, v) => a + Math.log(sigmoid(v)), 0) / s.length;
    const bceT = -t.reduce((a, v) => a + Math.log(1 - sigmoid(v)), 0) / t.length;
    assert.ok(Math.abs(loss.item() - 0.5 * (bceS + bceT)) < 1e-6, `${loss.item()} vs ${0.5 * (bceS + bceT)}`);
    const expectedAccuracy = 0.5 * (s.filter((v) => v >= 0).length / 5 + t.filter((v) => v < 0).length / 3);
    assert.ok(Math.abs(accuracy - expectedAccuracy) < 1e-6, `accuracy ${accuracy} vs ${expectedAccuracy}`);
    loss.backward();
    const reversed = [fs.grad!, ft.grad!, d.weight.grad!];
    fs.grad = null;
    ft.grad = null;
    d.zeroGrad();
    // The same loss without the reversal: the reversed run gave the features -0.7 times these gradients and the discriminator the same ones.
    const xs = fs.detach().requiresGrad_();
    const xt = ft.detach().requiresGrad_();
    const softplus = (v: Tensor): Tensor => v.exp().add(1).log();
    softplus(d.forward(xs).neg()).mean().add(softplus(d.forward(xt)).mean()).mul(0.5).backward();
    assertClose(reversed[0]!, xs.grad!.mul(-0.7), { atol: 1e-6, what: 'source features: reversed and scaled' });
    assertClose(reversed[1]!, xt.grad!.mul(-0.7), { atol: 1e-6, what: 'target features: reversed and scaled' });
    assertClose(reversed[2]!, d.weight.grad!, { atol: 1e-6, what: 'discriminator: not reversed' });
    d.dispose();
  });
});

test("TLlib's discriminator: its layers and names; BatchNorm1d normalises over the batch", async () => {
  manualSeed(72);
  const d = new DomainDiscriminator(8, { hidden: 16 });
  try {
    assert.deepEqual([...d.namedParameters().keys()], ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias', '4.weight', '4.bias', '6.weight', '6.bias']);
    assert.ok(d.getSubmodule('1') instanceof BatchNorm1d);
    tidy(() => {
      assert.deepEqual(d.forward(randn([5, 8])).shape, [5, 1]);
      const bn = new BatchNorm1d(4);
      const x = randn([6, 4]).mul(3).add(1);
      const expected = x.sub(x.mean(0)).div(x.std(0, false).pow(2).add(1e-5).sqrt());
      assertClose(bn.forward(x), expected, { atol: 1e-5, what: 'train-mode BatchNorm1d' });
      assertClose(bn.runningMean!, x.mean(0).mul(0.1), { atol: 1e-6, what: 'running mean' });
      bn.dispose();
    });
    const plain = new DomainDiscriminator(8, { hidden: 16, batchNorm: false });
    assert.deepEqual([...plain.namedParameters().keys()], ['0.weight', '0.bias', '3.weight', '3.bias', '6.weight', '6.bias']);
    plain.dispose();
  } finally {
    d.dispose();
  }
});

test('the DANN objective: source cross-entropy plus the weighted domain loss, training backbone and discriminator', async () => {
  const before = liveTensors().count;
  const run = (): { numbers: number[]; grads: number[] } => {
    manualSeed(73);
    const model = new TinyNet(TINY_CONFIG);
    const dann = DannObjective.forModel(model, { hidden: 32, tradeoff: 0.5 });
    try {
      return tidy(() => {
        const xs = randn([6, 1, 8, 8]);
        const ys = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int64' });
        const xt = randn([4, 1, 8, 8]).add(1);
        const r = dann.loss(model, { x: xs, y: ys }, xt, 0.3);
        assert.equal(r.lambda, dannLambda(0.3));
        assert.ok(Math.abs(r.loss.item() - (r.classLoss + 0.5 * r.domainLoss)) < 1e-6);
        // TinyNet has no BatchNorm, so the source logits in the joint batch are its logits alone.
        const alone = noGrad(() => F.crossEntropy(model.forward(xs), ys).item());
        assert.ok(Math.abs(r.classLoss - alone) < 1e-6, `${r.classLoss} vs ${alone}`);
        r.loss.backward();
        const conv = model.getSubmodule('features.0').namedParameters().get('weight')!.grad!;
        const disc = dann.parameters()[0]!.grad!;
        assert.ok(conv.abs().sum().item() > 0 && disc.abs().sum().item() > 0, 'backbone and discriminator both get gradients');
        return { numbers: [r.loss.item(), r.classLoss, r.domainLoss, r.domainAccuracy], grads: conv.toFlatArray() };
      });
    } finally {
      model.dispose();
      dann.dispose();
    }
  };
  const a = run();
  assert.deepEqual(run(), a, 'same seed, same loss and gradients');
  assert.equal(liveTensors().count, before);
});
