// The numeric plans on the new CNNs: fp32, fp32 channels-last and bf16 autocast channels-last,
// each for inference (folded, as evaluate, predict and serve run it) against the plain fp32
// forward, and for a training step against fp32's; then the plan timing itself, which must leave
// weights, statistics and gradients as it found them.
//
// A train-mode step is ill-conditioned at test sizes (BatchNorm over a few values per channel
// in the last stages amplifies rounding): between layouts PyTorch itself gives gradients that
// differ by 1% (RegNetY-400MF, 3x64x64, batch 8, relative L2 over all parameters; 2e-5 for
// EfficientNet-B0). So training is checked by its loss (measured here: channels-last within
// 1e-5 of fp32's, bf16 within 2.3%), finite gradients, and channels-last's whole gradient within
// a few times PyTorch's own spread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../src/models/index.js';
import { cloneState, disposeState, foldedForPlan, layOutForPlan, planForward, tunePlan, type ExecutionPlan } from '../src/execution/index.js';
import { F, disposeAll, inferenceMode, keep, liveTensors, manualSeed, randint, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { randomiseNorms } from './helpers/norms.js';

const PLANS: [string, ExecutionPlan][] = [
  ['fp32', { bf16: false, channelsLast: false, device: 'cpu' }],
  ['fp32 channels-last', { bf16: false, channelsLast: true, device: 'cpu' }],
  ['bf16 autocast channels-last', { bf16: true, channelsLast: true, device: 'cpu' }],
];
const maxAbs = (t: Tensor): number => tidy(() => t.abs().max().item());

const relativeL2 = (a: Map<string, Tensor>, b: Map<string, Tensor>): number =>
  tidy(() => {
    let num = 0;
    let den = 0;
    for (const [k, t] of b) {
      num += t.sub(a.get(k)!.float()).pow(2).sum().item();
      den += t.pow(2).sum().item();
    }
    return Math.sqrt(num / den);
  });

for (const name of ['efficientnet_b0', 'mobilenet_v3_small', 'regnet_y_400mf']) {
  test(`${name}: every plan infers (folded) and trains as fp32 does, within fp32's or bf16's tolerance`, () => {
    const live = liveTensors().count;
    manualSeed(51);
    const model = createModel(name, { numClasses: 4, inputSize: [64, 64] });
    randomiseNorms(model);
    const x = keep(randn([8, 3, 64, 64]));
    const y = keep(randint(0, 4, [8]));
    const reference: { logits?: Tensor; loss?: number; grads?: Map<string, Tensor> } = {};
    // Each plan starts from the same weights and statistics (a train step moves the statistics).
    const initial = cloneState(model.stateDict());
    try {
      for (const [label, plan] of PLANS) {
        layOutForPlan(model, plan);
        model.loadStateDict(initial);
        // bf16 rounds to 3 significant digits in every layer.
        const tol = (t: Tensor): { rtol: number; atol: number } => (plan.bf16 ? { rtol: 5e-2, atol: 5e-2 * maxAbs(t) } : { rtol: 1e-4, atol: 1e-4 * maxAbs(t) });
        model.eval();
        const view = foldedForPlan(model, plan);
        tidy(() => {
          const logits = inferenceMode(() => planForward(model, x, plan, { folded: view }));
          reference.logits ??= keep(inferenceMode(() => model.forward(x)));
          assertClose(logits, reference.logits, { ...tol(reference.logits), what: `${label} folded eval logits` });
        });
        view.dispose();

        model.train();
        model.zeroGrad();
        manualSeed(52);
        const loss = tidy(() => {
          const l = F.crossEntropy(planForward(model, x, plan), y);
          l.backward();
          return l.item();
        });
        if (reference.loss === undefined) {
          reference.loss = loss;
          reference.grads = tidy(() => new Map([...model.namedParameters()].map(([k, p]) => [k, keep(p.grad!.contiguous().clone())])));
          continue;
        }
        assert.ok(Math.abs(loss - reference.loss) <= (plan.bf16 ? 5e-2 : 1e-4) * Math.abs(reference.loss), `${label}: loss ${loss} against fp32's ${reference.loss}`);
        tidy(() => {
          // A gradient read is a new handle: read under this scope.
          const grads = new Map([...model.namedParameters()].map(([k, p]) => [k, p.grad!]));
          for (const [k, g] of grads) assert.equal(g.float().unary('isfinite').sum().item(), g.numel, `${label}: ${k}'s gradient is finite`);
          if (!plan.bf16) assert.ok(relativeL2(grads, reference.grads!) < 5e-2, `${label}: gradient within 5% of fp32's (relative L2)`);
        });
      }
    } finally {
      model.zeroGrad();
      disposeState(initial);
      disposeAll([x, y, ...(reference.logits ? [reference.logits] : []), ...(reference.grads?.values() ?? [])]);
      model.dispose();
    }
    assert.equal(liveTensors().count, live);
  });
}

test('mobilenet_v3_small: plan timing for training (fine-tuning the last groups) restores statistics and leaves no gradient', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-plans-cnn-'));
  const saved = process.env.TLCV_PLAN_CACHE;
  process.env.TLCV_PLAN_CACHE = join(dir, 'plans.json');
  manualSeed(53);
  const model = createModel('mobilenet_v3_small', { numClasses: 4, inputSize: [32, 32] });
  const x = keep(randn([8, 3, 32, 32]));
  const y = keep(randint(0, 4, [8]));
  try {
    const live = liveTensors().count;
    const before = new Map([...model.stateDict()].map(([k, v]) => [k, v.toFlatArray()]));
    const stages = model.stages();
    const logs: string[] = [];
    const plan = tunePlan({ model, stages, frozenStages: stages.length - 3, x, y, train: true, precision: 'auto', channelsLast: 'auto', device: 'cpu', log: (m) => logs.push(m) });
    assert.match(logs.join('\n'), /timed training plans \(images\/s\): fp32 on cpu \d+\/s, fp32 \+ channels-last on cpu \d+\/s/);
    assert.ok(typeof plan.bf16 === 'boolean');
    for (const [k, v] of model.stateDict()) assert.deepEqual(v.toFlatArray(), before.get(k), `${k} as before the timing`);
    assert.ok(model.parameters().every((p) => p.grad === null), 'no gradient left behind');
    assert.equal(liveTensors().count, live, 'the timing frees what it made');
  } finally {
    disposeAll([x, y]);
    model.dispose();
    if (saved === undefined) delete process.env.TLCV_PLAN_CACHE;
    else process.env.TLCV_PLAN_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
