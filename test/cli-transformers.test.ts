// DINOv2 through the real binary, from an official-layout weights file (no head; random values):
// `tlcv transfer --mode probe` fits its head on the class token + mean patch token, `tlcv adapt
// --method adabn` refuses it in one line, and `tlcv serve` answers as `tlcv predict --json`
// (export: deploy-onnx-vit and deploy-web).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createModel } from '../src/models/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { manualSeed } from '../src/tensor/index.js';
import type { PredictionReport } from '../src/deploy/index.js';
import { writePhotos } from './helpers/deploy-fixture.js';
import { assertUserError, runCli } from './helpers/cli.js';
import { pollUntil, startCli, type RunningCli } from './helpers/cli-async.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-vit-'));
const weights = join(root, 'dinov2_vits14_backbone.safetensors');
const folder = join(root, 'probe');
let photos: string[];
const running: RunningCli[] = [];
after(() => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

before(async () => {
  manualSeed(6);
  const model = createModel('dinov2_vits14');
  // The published file's layout: the backbone's keys, no head.
  writeSafetensors(weights, new Map([...model.stateDict()].filter(([k]) => !k.startsWith('head.'))));
  model.dispose();
  photos = await writePhotos(join(root, 'photos'), 3);
});

const fp32 = ['--precision', 'fp32', '--channels-last', 'off'];

test('transfer --mode probe from a DINOv2 backbone file: the head is fitted on 768 features and the folder reloads', () => {
  const r = runCli(['transfer', '--model', weights, '--arch', 'dinov2_vits14', '--data', 'mnist:all@k=3,seed=1', '--val', 'none', '--mode', 'probe', '--input-size', '28x28', ...fp32, '--out', folder]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^dinov2_vits14: the weights are a backbone's, without a classifier; head left freshly initialised$/m);
  assert.match(r.stdout, /support-set accuracy \d+\.\d\d%/);
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { model: string; inputSize: number[]; head: unknown };
  assert.deepEqual([config.model, config.inputSize, config.head], ['dinov2_vits14', [3, 28, 28], { kind: 'float32-linear' }]);
  assert.match(readFileSync(join(folder, 'report.html'), 'utf8'), /probe on 30 support images, 768 features/);
});

test('adapt --method adabn refuses DINOv2 in one line, before scoring anything', () => {
  const out = join(root, 'adabn');
  assertUserError(
    ['adapt', '--model', folder, '--method', 'adabn', '--target', 'mnist:test@k=1', '--out', out, '--quiet'],
    /^tlcv adapt: adabn recomputes BatchNorm statistics, but dinov2_vits14 has no BatchNorm layer: use dann or pseudo-label with this model, or a model with BatchNorm \(resnet18, mobilenet_v2\)$/,
    { out, ignore: /^source model:/ },
  );
});

test('serve answers concurrent requests as predict --json does', async () => {
  assert.ok(existsSync(folder), 'the transfer test wrote the folder');
  const pr = runCli(['predict', '--model', folder, ...photos, '--json']);
  assert.equal(pr.code, 0, pr.stderr);
  const expected = new Map((JSON.parse(pr.stdout) as PredictionReport).predictions.map((p) => [basename(p.file), p.probabilities]));
  const server = startCli(['serve', '--model', folder, '--port', '0']);
  running.push(server);
  let err = '';
  server.child.stderr!.on('data', (d: string) => (err += d));
  const url = await pollUntil(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1] ?? (server.child.exitCode !== null ? `exit ${server.child.exitCode}` : undefined), { what: 'tlcv serve to listen', everyMs: 50 });
  assert.match(url, /^http:/, err);
  const replies = await Promise.all(
    Array.from({ length: 9 }, async (_, i) => {
      const res = await fetch(`${url}/predict`, { method: 'POST', body: new Uint8Array(readFileSync(photos[i % 3]!)) });
      assert.equal(res.status, 200);
      return { i, report: (await res.json()) as PredictionReport };
    }),
  );
  for (const { i, report } of replies) {
    const want = expected.get(basename(photos[i % 3]!))!;
    report.predictions[0]!.probabilities.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-5, `request ${i} class ${k}: ${v} against predict's ${want[k]}`));
  }
  server.child.kill('SIGTERM');
  assert.equal((await server.done).code, 0);
});

test('a ViT at a size its patches do not tile: one line that names a size to use', () => {
  const out = join(root, 'vit-28');
  assertUserError(
    ['pretrain', '--arch', 'vit_b_16', '--data', 'mnist:train@k=1', '--epochs', '1', '--out', out],
    /^tlcv pretrain: vit_b_16 cuts images into 16x16 patches: its input size must be a multiple of 16 on each side, got 28x28 \(--input-size 32x32, for one\)$/,
    { out },
  );
});
