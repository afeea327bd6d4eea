// probe (L-BFGS logistic regression with an L2 sweep on a held-out split): the fit is a
// minimum of its objective (gradient zero in the standardised space, whose scaling the Linear
// head folds in), the held-out split is per class and seeded, the sweep keeps the best λ, the
// head works on a model, and the same seed gives the same head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader } from '../src/data/index.js';
import { planExecution } from '../src/execution/index.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { fitFewShotHead, fitProbe, probeSplit } from '../src/transfer/heads/index.js';
import { F, disposeAll, fromTypedArray, liveTensors, manualSeed, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const fp32 = planExecution({ precision: 'fp32', channelsLast: false, device: 'cpu' });

/** Three overlapping classes in 8-d whose dimensions have very different scales and offsets. */
function problem(n: number): { x: Tensor; labels: Int32Array } {
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const x = tidy(() => {
    const centres = randn([3, 8]);
    const scales = fromTypedArray(Float32Array.from([1, 10, 0.1, 100, 1, 3, 0.5, 20]), [1, 8]);
    return centres.indexSelect(0, fromTypedArray(labels, [n]).long()).add(randn([n, 8]).mul(0.9)).mul(scales).add(5);
  });
  return { x, labels };
}

test('the probe minimises its objective: zero gradient where the head was fitted', async () => {
  const before = liveTensors().count;
  manualSeed(51);
  const { x, labels } = problem(90);
  const probe = fitProbe(x, labels, 3, { lambdas: [1e-2] });
  assert.equal(probe.lambda, 1e-2);
  assert.deepEqual(probe.sweep, [], 'one λ: nothing to sweep');
  tidy(() => {
    // Undo the folding: in the standardised space, W_s = W σ and b_s = b + W μ.
    const raw = x.to('float64');
    const mean = raw.mean(0);
    const std = raw.std(0, false);
    const xs = raw.sub(mean).div(std);
    const ws = probe.weight.to('float64').mul(std).detach().requiresGrad_();
    const bs = probe.bias.to('float64').add(probe.weight.to('float64').matmul(mean)).detach().requiresGrad_();
    const y = fromTypedArray(labels, [90]).long();
    const loss = F.crossEntropy(F.linear(xs, ws, bs), y).add(ws.pow(2).sum().mul(0.5e-2));
    loss.backward();
    assert.ok(Math.abs(loss.item() - probe.loss) < 1e-5, `loss ${loss.item()} vs reported ${probe.loss}`);
    const gradMax = Math.max(ws.grad!.abs().max().item(), bs.grad!.abs().max().item());
    assert.ok(gradMax < 1e-4, `gradient at the fitted head: ${gradMax}`);
    // The raw-feature head gives the same logits as the standardised one.
    const logits = F.linear(x, probe.weight, probe.bias);
    const diff = logits.to('float64').sub(F.linear(xs, ws.detach(), bs.detach())).abs().max().item();
    assert.ok(diff < 1e-3, `folded logits differ by ${diff}`);
    ws.grad = null;
    bs.grad = null;
  });
  disposeAll([x, probe]);
  assert.equal(liveTensors().count, before);
});

test('the held-out split is per class, keeps one of each class for training, and follows the seed', async () => {
  const labels = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2]);
  const a = probeSplit(labels, 3, 0.4, 7);
  assert.deepEqual([...a.val].map((i) => labels[i]), [0, 0, 1, 1], 'two of five per class; the lone class-2 image stays in training');
  assert.equal(a.train.length + a.val.length, labels.length);
  assert.deepEqual(new Set([...a.train, ...a.val]).size, labels.length);
  assert.deepEqual(probeSplit(labels, 3, 0.4, 7), a);
  const others = [1, 2, 3, 4, 5].map((s) => [...probeSplit(labels, 3, 0.4, s).val].join());
  assert.ok(others.some((v) => v !== [...a.val].join()), 'other seeds hold out other images');
});

test('the sweep reports every λ and keeps the best held-out one; the same seed gives the same probe', async () => {
  const before = liveTensors().count;
  manualSeed(52);
  const { x, labels } = problem(120);
  const lambdas = [1e-4, 1e-2, 1, 100];
  const runs = [0, 1].map(() => fitProbe(x, labels, 3, { lambdas, seed: 3, valFraction: 0.25 }));
  const [p, q] = runs as [ReturnType<typeof fitProbe>, ReturnType<typeof fitProbe>];
  assert.deepEqual(p.sweep.map((r) => r.lambda), lambdas);
  const bestAcc = Math.max(...p.sweep.map((r) => r.valAccuracy));
  const chosen = p.sweep.find((r) => r.lambda === p.lambda)!;
  assert.equal(chosen.valAccuracy, bestAcc);
  assert.ok(p.sweep.every((r) => r.valAccuracy < bestAcc || r.valLoss >= chosen.valLoss));
  // λ = 100 squeezes the weights towards zero: the held-out loss climbs toward log(3).
  assert.ok(p.sweep[3]!.valLoss > p.sweep[1]!.valLoss);
  assert.deepEqual(p.sweep, q.sweep);
  assert.deepEqual(p.weight.toFlatArray(), q.weight.toFlatArray());
  assert.deepEqual(p.bias.toFlatArray(), q.bias.toFlatArray());
  disposeAll([x, runs]);
  assert.equal(liveTensors().count, before);
});

test('as a model head, the probe classifies the tiny set', async () => {
  const before = liveTensors().count;
  manualSeed(53);
  const model = new TinyNet(TINY_CONFIG);
  const loader = (n: number): DataLoader => new DataLoader(tinyDataset(n), { batchSize: 16, mean: TINY_CONFIG.mean, std: TINY_CONFIG.std });
  try {
    const r = await fitFewShotHead(model, { mode: 'probe', support: loader(30), numClasses: 3, plan: fp32, probe: { seed: 1 } });
    assert.equal(r.sweep!.length, 7);
    assert.ok(r.lambda !== undefined && r.sweep!.some((row) => row.lambda === r.lambda));
    const ev = await evaluateModel(model, loader(60), { plan: fp32, classNames: ['a', 'b', 'c'] });
    assert.ok(ev.accuracy > 0.9, `brightness classes are easy: ${ev.accuracy}`);
  } finally {
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});
