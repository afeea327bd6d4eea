// What `tlcv models` shows: each model's parameters and multiply-adds counted on its real
// forward (src/models/model-cost.ts) equal PyTorch's count by forward hooks on the same
// architecture (test/peer/model_macs.py), the counts are cached, and the bench's measured
// speeds for this CPU reach the table.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getModelConfig, measureModelCost, modelCosts, recordMeasuredSpeeds } from '../src/models/index.js';
import { cpuModelName } from '../src/bench/core/machine.js';
import { liveTensors } from '../src/tensor/index.js';
import { runPeer } from './helpers/peer.js';
import { runCli, STACK_LINE } from './helpers/cli.js';

let cache: string;
before(() => {
  cache = mkdtempSync(join(tmpdir(), 'tlcv-models-'));
});
after(() => rmSync(cache, { recursive: true, force: true }));

// One model per family, at sizes that keep the forward cheap; attention both ways (torchvision's
// MultiheadAttention and DINOv2's fused qkv).
for (const [model, size] of [
  ['resnet18', [64, 64]],
  ['mobilenet_v3_small', [64, 64]],
  ['efficientnet_b0', [64, 64]],
  ['regnet_y_400mf', [64, 64]],
  ['convnext_tiny', [64, 64]],
  ['vit_b_16', [32, 32]],
  ['dinov2_vits14', [28, 28]],
] as const) {
  test(`${model} at ${size.join('x')}: parameters and multiply-adds as PyTorch's hooks count them`, () => {
    const live = liveTensors().count;
    const cost = measureModelCost(model, { inputSize: [...size] });
    const c = getModelConfig(model);
    const peer = runPeer('model_macs.py', [model, c.inputSize[0], ...size, c.numClasses].map(String));
    assert.equal(cost.params, peer.meta.params as number, 'parameters');
    assert.equal(cost.macs, peer.meta.macs as number, 'multiply-adds');
    assert.ok(cost.macs > 0);
    assert.equal(liveTensors().count, live, 'no tensor left behind');
  });
}

test('tlcv models NAME --json: costs counted once then read from the cache, the bench speeds measured on this CPU shown, an unknown name exits 2', () => {
  const env = { TLCV_CACHE: cache };
  recordMeasuredSpeeds(
    [
      { model: 'resnet18', inputSize: [3, 224, 224], mode: 'infer', batch: 64, imagesPerSecond: 41.5, threads: 2, cpu: cpuModelName(), measuredAt: '2026-12-01T10:00:00.000Z' },
      { model: 'resnet18', inputSize: [3, 224, 224], mode: 'infer', batch: 64, imagesPerSecond: 43.25, threads: 2, cpu: cpuModelName(), measuredAt: '2026-12-02T10:00:00.000Z' },
      // Another CPU's figure and another input size's are not this machine's default-size speed.
      { model: 'resnet18', inputSize: [3, 224, 224], mode: 'train', batch: 64, imagesPerSecond: 99, threads: 2, cpu: 'another CPU', measuredAt: '2026-12-02T10:00:00.000Z' },
      { model: 'resnet18', inputSize: [3, 32, 32], mode: 'train', batch: 64, imagesPerSecond: 999, threads: 2, cpu: cpuModelName(), measuredAt: '2026-12-02T10:00:00.000Z' },
    ],
    join(cache, 'models'),
  );
  const first = runCli(['models', 'resnet18', 'mobilenet_v3_small', '--json'], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /counting parameters and multiply-adds of 2 models once/);
  assert.ok(existsSync(join(cache, 'models', 'costs.json')));
  const rows = JSON.parse(first.stdout) as { model: string; params: number; gflops: number; preprocessing: string; trainImagesPerSecond: number | null; inferImagesPerSecond: number | null }[];
  assert.deepEqual(rows.map((r) => r.model), ['resnet18', 'mobilenet_v3_small']);
  const [r18, v3] = rows as [(typeof rows)[0], (typeof rows)[0]];
  assert.equal(r18.params, modelCosts(['resnet18'], { dir: join(cache, 'models') })[0]!.params);
  assert.equal(r18.inferImagesPerSecond, 43.25, 'the latest figure for this CPU');
  assert.equal(r18.trainImagesPerSecond, null, 'no training figure at 224 px on this CPU');
  assert.equal(v3.inferImagesPerSecond, null);
  assert.equal(r18.preprocessing, 'resize 256 bilinear, centre crop 224x224');
  assert.ok(Math.abs(r18.gflops - 1.81) < 0.01, `resnet18 at 224 px: ${r18.gflops} GFLOPs, torchvision's table says 1.81`);

  const again = runCli(['models', 'resnet18'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /counting/, 'the second listing reads the cache');
  assert.match(again.stdout, /^resnet18\s+11\.7M\s+1\.81\s+3x224x224\s+resize 256 bilinear, centre crop 224x224\s+-\s+43\.3\s+not cached/m);

  const bad = runCli(['models', 'resnet19'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown model "resnet19": expected one of .*resnet18/);
  assert.doesNotMatch(bad.stderr, STACK_LINE);
});
