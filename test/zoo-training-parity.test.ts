// Training from scratch, tlcv against PyTorch, small enough for CI: EfficientNet-B0 and
// MobileNetV3-Small on 200 Fashion-MNIST images at 3x32x32 (scripts/probes/zoo-training-run.ts:
// the same initial weights, images, order, per-epoch seeds and AdamW recipe on both sides; tlcv's
// run is its Learner's; both evaluated as trained and with BatchNorm statistics recomputed).
// Measured on this machine: the two runs are bit-identical (losses, test logits, accuracy),
// stochastic depth and dropout included, since both draw from the same generator in the same order. The bounds below leave room for nothing but rounding; the full-size
// comparison (4,000 images, 5 epochs) is `node dist/scripts/probes/zoo-training.js`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor/index.js';
import { fashionMnist, trainingParity } from '../scripts/probes/zoo-training-run.js';

for (const [name, epochs] of [
  ['mobilenet_v3_small', 2],
  ['efficientnet_b0', 1],
] as const) {
  test(`${name}: ${epochs} epoch(s) from scratch give PyTorch's losses, test logits and accuracy`, async (t) => {
    const live = liveTensors().count;
    const train = await fashionMnist('train', 20, 32);
    const test_ = await fashionMnist('test', 10, 32);
    const { tlcv, torch, logitDiff } = await trainingParity(name, train, test_, epochs);
    t.diagnostic(`loss per epoch tlcv ${tlcv.losses.join(', ')}, PyTorch ${torch.losses.join(', ')}; accuracy ${tlcv.trained.accuracy} and ${torch.trained.accuracy} (BatchNorm recomputed: ${tlcv.recalibrated.accuracy} and ${torch.recalibrated.accuracy}); largest logit difference ${logitDiff}`);
    assert.equal(tlcv.losses.length, epochs);
    tlcv.losses.forEach((l, i) => assert.ok(Math.abs(l - torch.losses[i]!) <= 1e-5 * Math.abs(torch.losses[i]!), `epoch ${i + 1}: loss ${l} against ${torch.losses[i]}`));
    const scale = [...torch.trained.logits, ...torch.recalibrated.logits].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(logitDiff <= 1e-4 * scale, `test logits within 1e-4 of their largest (${scale}): ${logitDiff}`);
    for (const k of ['trained', 'recalibrated'] as const) assert.ok(Math.abs(tlcv[k].accuracy - torch[k].accuracy) <= 0.01, `${k}: accuracy ${tlcv[k].accuracy} against ${torch[k].accuracy}`);
    assert.equal(liveTensors().count, live);
  });
}
