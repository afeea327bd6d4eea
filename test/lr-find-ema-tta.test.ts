// The pieces fit uses (issue 22, part B): fastai's lr_find (the valley rule, and a sweep that
// leaves the model as it found it), the EMA of weights as timm's ModelEmaV2 keeps it (with the
// decay's warm-up), and test-time augmentation (an image and its mirror averaged).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLrFindReport } from '../src/runs/index.js';
import { ModelEma, lrFind, valleySuggestion, type LearnerView } from '../src/train/index.js';
import { ttaProbabilities } from '../src/execution/index.js';
import { F, fromTypedArray, liveTensors, manualSeed, noGrad, tidy } from '../src/tensor/index.js';
import { mirrorPixels } from '../src/runs/predict-input.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const stateOf = (m: TinyNet): Map<string, number[]> => new Map([...m.stateDict()].map(([k, t]) => [k, t.toFlatArray()]));

test('valleySuggestion: the longest falling stretch, a little past its first third (fastai)', () => {
  // Falling from the start: fastai takes the first rate (its start index is -1, then a third of 4 steps).
  assert.equal(valleySuggestion([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], [2.3, 2.2, 1.5, 1.2, 9]), 1e-5);
  // A dip then a longer fall: the longer one.
  const lrs = Array.from({ length: 10 }, (_, i) => 10 ** (i - 7));
  const losses = [3, 2.9, 3.1, 3.0, 2.8, 2.5, 2.1, 1.7, 1.5, 9];
  assert.equal(valleySuggestion(lrs, losses), lrs[4]);
});

test('lrFind: rising rates, a suggestion inside the sweep, and the model as it went in (weights, BatchNorm, modes, tensors)', async () => {
  manualSeed(3);
  const model = new TinyNet(TINY_CONFIG);
  const data = tinyDataset(48);
  const before = stateOf(model);
  model.eval();
  const live = liveTensors().count;
  const r = await lrFind(model, data, { iterations: 30, options: { batchSize: 8, seed: 1 } });
  assert.ok(r.lrs.length >= 2 && r.lrs.length <= 30);
  for (let i = 1; i < r.lrs.length; i += 1) assert.ok(r.lrs[i]! > r.lrs[i - 1]!);
  assert.ok(r.suggestion >= r.lrs[0]! && r.suggestion <= r.lrs.at(-1)!);
  assert.ok(r.losses.slice(0, 3).every(Number.isFinite));
  assert.deepEqual(stateOf(model), before);
  assert.equal(model.training, false);
  assert.ok(model.parameters().every((p) => p.grad === null));
  assert.equal(liveTensors().count, live);
  model.dispose();
});

test('ModelEma: the average of the weights after each step, with the decay warmed up as (1+t)/(10+t); put in at the end', () => {
  manualSeed(4);
  const model = new TinyNet(TINY_CONFIG);
  const view = { model, stage: undefined } as unknown as LearnerView;
  const ema = new ModelEma({ decay: 0.999 });
  ema.afterSetup(view);
  const w0 = model.stateDict().get('classifier.1.bias')!.toFlatArray();
  // A step moves the weights: the average moves 9/10 of the way (decay min(0.999, 1/10)).
  noGrad(() => tidy(() => void model.stateDict().get('classifier.1.bias')!.add_(fromTypedArray(new Float32Array([1, 1, 1]), [3]))));
  ema.afterStep(view);
  const avg1 = ema.weights!.get('classifier.1.bias')!.toFlatArray();
  avg1.forEach((v, i) => assert.ok(Math.abs(v - (0.1 * w0[i]! + 0.9 * (w0[i]! + 1))) < 1e-6));
  // Next step: decay 2/11.
  noGrad(() => tidy(() => void model.stateDict().get('classifier.1.bias')!.add_(fromTypedArray(new Float32Array([1, 1, 1]), [3]))));
  ema.afterStep(view);
  const avg2 = ema.weights!.get('classifier.1.bias')!.toFlatArray();
  avg2.forEach((v, i) => assert.ok(Math.abs(v - ((2 / 11) * avg1[i]! + (9 / 11) * (w0[i]! + 2))) < 1e-5));
  ema.afterFit(view);
  assert.deepEqual(model.stateDict().get('classifier.1.bias')!.toFlatArray(), avg2);
  ema.cleanup(view);
  assert.equal(ema.weights, null);
  model.dispose();
});

test('test-time augmentation: the mean of the probabilities of an image and of its mirror; mirrorPixels flips each row', () => {
  // A forward that is not mirror-symmetric: the logit is the left column's sum against the right's.
  const forward = (x: ReturnType<typeof fromTypedArray>) => tidy(() => x.reshape([1, 4]).narrow(1, 0, 2).mul(3));
  const x = fromTypedArray(new Float32Array([1, 0, 0, 2]), [1, 1, 2, 2]);
  const mirrored = fromTypedArray(new Float32Array([0, 1, 2, 0]), [1, 1, 2, 2]);
  const p = tidy(() => ttaProbabilities(forward, x, true).toFlatArray());
  const a = tidy(() => F.softmax(forward(x), 1).toFlatArray());
  const b = tidy(() => F.softmax(forward(mirrored), 1).toFlatArray());
  p.forEach((v, i) => assert.ok(Math.abs(v - (a[i]! + b[i]!) / 2) < 1e-6));
  assert.deepEqual(tidy(() => ttaProbabilities(forward, x, false).toFlatArray()), a);
  x.dispose();
  mirrored.dispose();
  const [m] = mirrorPixels([Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])], [2, 2, 3]);
  assert.deepEqual(Array.from(m!), [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
});

test("writeLrFindReport: lr-find.json holds every step, and report.html is the report's self-contained page with the chart and the suggestion", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-lr-find-'));
  try {
    const lrs = [1e-5, 1e-4, 1e-3, 1e-2];
    writeLrFindReport(dir, { lrs, losses: [2.3, 2.1, 1.4, 5], suggestion: 1e-4, minimum: 1e-3, diverged: true, seconds: 1.5, batchSize: 8, mode: 'fine-tune' }, 'lr-find: <fine-tune> of m');
    const json = JSON.parse(readFileSync(join(dir, 'lr-find.json'), 'utf8')) as { steps: { lr: number; loss: number }[]; suggestion: number };
    assert.deepEqual(json.steps.map((s) => s.lr), lrs);
    assert.equal(json.suggestion, 1e-4);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<h1>lr-find: &lt;fine-tune&gt; of m<\/h1>/);
    assert.match(html, /Suggested learning rate \(fastai's valley\): <b>1\.00e-4<\/b>; lowest smoothed loss at 1\.00e-3\. 4 steps at batch 8/);
    assert.match(html, /<svg[^>]*>[\s\S]*the sweep stopped where the loss exploded/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
