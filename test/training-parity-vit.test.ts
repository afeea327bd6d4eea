// Training parity, the cheap honest version of scripts/probes/zoo-training-vit.ts (run by hand for
// convnext_tiny and a ViT-Tiny-sized model on 3,000 images): a two-layer torchvision ViT trained
// from scratch by tlcv's Learner and by PyTorch (peers/zoo_training_vit.py) on the same batches of
// Fashion-MNIST at 32 px, from the same initial weights, with the same recipe. Each epoch's
// training loss must agree within 1e-4 (relative), and the test accuracies within one point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

interface Side {
  accuracy: number;
  losses: number[];
}

test('a small ViT trains in tlcv as in PyTorch: the same losses epoch by epoch, the same test accuracy within a point', () => {
  const probe = resolve('dist', 'scripts', 'probes', 'zoo-training-vit.js');
  const r = spawnSync(process.execPath, [probe, '--models', 'vit_mini', '--train', '30', '--test', '20', '--epochs', '3', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { tlcv, pytorch } = JSON.parse(r.stdout) as { tlcv: Side; pytorch: Side };
  assert.equal(tlcv.losses.length, 3);
  tlcv.losses.forEach((l, i) => assert.ok(Math.abs(l - pytorch.losses[i]!) <= 1e-4 * pytorch.losses[i]!, `epoch ${i + 1}: loss ${l} against PyTorch's ${pytorch.losses[i]}`));
  // It learnt: the loss fell, and the accuracy is well above chance (10%).
  assert.ok(tlcv.losses[2]! < tlcv.losses[0]! - 0.1, `losses ${tlcv.losses.join(', ')}`);
  assert.ok(tlcv.accuracy > 0.25, `test accuracy ${tlcv.accuracy}`);
  assert.ok(Math.abs(tlcv.accuracy - pytorch.accuracy) <= 0.01, `test accuracy ${tlcv.accuracy} against PyTorch's ${pytorch.accuracy}`);
});
