// The zoo entries of the transformer half: torchvision's weight URLs and hash prefixes, and the
// default preprocessing each DEFAULT weights' transforms() says (read from torchvision now),
// parameter counts against torchvision's metadata, ViT weights loaded at another input size (the
// position embedding interpolated as torchvision's interpolate_embeddings does), DINOv2's official
// file with its eval transform, and a download without a published sha256: offline message, digest logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { createModel, downloadVerified, getModelConfig, loadPretrained, resolvePretrained, type VisionTransformer } from '../src/models/index.js';
import { resolveDataConfig, storedSize } from '../src/data/index.js';
import { disposeAll, keep, liveTensors, manualSeed, randn, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { PEER_PYTHON, readPeerDir, writePeerInput } from './helpers/peer.js';

interface TorchvisionWeights {
  url: string;
  crop_size: number[];
  resize_size: number[];
  interpolation: string;
  mean: number[];
  std: number[];
  num_params: number;
}

const TORCHVISION = ['convnext_tiny', 'convnext_small', 'vit_b_16'];

test("torchvision entries: the DEFAULT weights' URL, hash prefix, resize, crop, kernel, mean, std and parameter count", () => {
  const r = spawnSync(PEER_PYTHON, [resolve('test', 'peer', 'weights_transforms.py'), ...TORCHVISION], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const tv = JSON.parse(r.stdout) as Record<string, TorchvisionWeights>;
  const before = liveTensors().count;
  for (const name of TORCHVISION) {
    const c = getModelConfig(name);
    const w = tv[name]!;
    assert.equal(c.pretrained!.url, w.url);
    assert.ok(w.url.endsWith(`/${c.pretrained!.file}`));
    assert.equal(c.pretrained!.sha256, c.pretrained!.file.slice(-12, -4), "torchvision's 8-hex prefix");
    assert.deepEqual([c.inputSize[1], c.inputSize[2]], [w.crop_size[0], w.crop_size[0]]);
    assert.equal(c.cropPct, w.crop_size[0]! / w.resize_size[0]!);
    assert.equal(c.interpolation, w.interpolation);
    assert.deepEqual([c.mean, c.std], [w.mean, w.std]);
    // A photo's preprocessing: resize the shorter side to resize_size, centre-crop crop_size.
    const p = resolveDataConfig({ model: c, data: { channels: 3, height: 480, width: 640 } });
    assert.deepEqual(storedSize(480, 640, p)[0], w.resize_size[0]);
    assert.equal(p.interpolation, w.interpolation);
    const model = createModel(name);
    assert.equal(model.numParameters(), w.num_params, `${name}: torchvision's num_params`);
    model.dispose();
  }
  assert.equal(liveTensors().count, before);
});

test("vit_b_16 weights for 224 px load into a ViT built for another size: the position embedding interpolated as torchvision's interpolate_embeddings", () => {
  const before = liveTensors().count;
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-vit-pos-'));
  manualSeed(9);
  const pos = keep(randn([1, 1 + 14 * 14, 768]));
  const vit = createModel('vit_b_16', { numClasses: 4, inputSize: [48, 48] }) as VisionTransformer;
  try {
    tidy(() => writePeerInput(join(dir, 'in'), { pos }));
    const r = spawnSync(PEER_PYTHON, [resolve('test', 'peer', 'vit_interpolate.py'), join(dir, 'in'), join(dir, 'out'), '48'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: resolve('test', 'peer') } });
    assert.equal(r.status, 0, r.stderr);
    const expected = readPeerDir(join(dir, 'out')).tensors;
    // The whole path: a 224-px state dict (its other tensors this model's own) through loadPretrained.
    const sd = new Map(tidy(() => [...vit.stateDict()].map(([k, v]) => [k, keep(k === 'encoder.pos_embedding' ? pos.clone() : v.clone())] as const)));
    const logs: string[] = [];
    const report = loadPretrained(vit, sd, { log: (m) => logs.push(m) });
    assert.deepEqual(report.adapted.map((a) => [a.name, a.from, a.to]), [['encoder.pos_embedding', [1, 197, 768], [1, 10, 768]]]);
    assert.match(logs.join('\n'), /encoder\.pos_embedding interpolated from a 14x14 patch grid to 3x3/);
    assertClose(vit.stateDict().get('encoder.pos_embedding')!, expected.get('pos')!, { rtol: 1e-5, atol: 1e-6, what: 'interpolated position embedding' });
    disposeAll([[...sd.values()], [...expected.values()]]);
    // Grids that are not square: the class token's row kept, the grid resized to 2x3.
    const wide = createModel('vit_b_16', { numClasses: 4, inputSize: [32, 48] }) as VisionTransformer;
    const fit = wide.adaptPretrainedTensor('encoder.pos_embedding', pos)!;
    assert.deepEqual(fit.tensor.shape, [1, 7, 768]);
    tidy(() => assertClose(fit.tensor.narrow(1, 0, 1), pos.narrow(1, 0, 1), { rtol: 0, atol: 0, what: 'class token row' }));
    fit.tensor.dispose();
    wide.dispose();
  } finally {
    vit.dispose();
    pos.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(liveTensors().count, before);
});

test("DINOv2 entries: the official files, no published sha256, DINOv2's eval transform (resize 256 bicubic, crop 224)", () => {
  for (const name of ['dinov2_vits14', 'dinov2_vitb14']) {
    const c = getModelConfig(name);
    assert.equal(c.pretrained!.url, `https://dl.fbaipublicfiles.com/dinov2/${name}/${name}_pretrain.pth`);
    assert.equal(c.pretrained!.sha256, null);
    assert.equal(c.pretrained!.backboneOnly, true);
    const p = resolveDataConfig({ model: c, data: { channels: 3, height: 480, width: 640 } });
    assert.deepEqual(p.inputSize, [3, 224, 224]);
    assert.equal(storedSize(480, 640, p)[0], 256);
    assert.equal(p.interpolation, 'bicubic');
    assert.deepEqual([p.mean, p.std], [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]);
  }
});

test('dinov2_vits14: offline, the error says where to put the official file; a download without a sha256 logs its digest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-dino-weights-'));
  const offline = (): Promise<Response> => Promise.reject(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND dl.fbaipublicfiles.com') }));
  const dest = join(dir, 'dinov2_vits14_pretrain.pth');
  await assert.rejects(
    resolvePretrained('dinov2_vits14', { cacheDir: dir, fetch: offline }),
    (e: unknown) =>
      e instanceof TlcvError &&
      e.code === 'WEIGHTS' &&
      e.message === `could not download pretrained weights (getaddrinfo ENOTFOUND dl.fbaipublicfiles.com): download it yourself from https://dl.fbaipublicfiles.com/dinov2/dinov2_vits14/dinov2_vits14_pretrain.pth and put it at ${dest}`,
  );
  const body = Buffer.from('not really a checkpoint');
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const logs: string[] = [];
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/w.pth`;
    const path = await downloadVerified({ url, sha256: null, file: 'w.pth' }, dir, { log: (m) => logs.push(m) });
    assert.deepEqual(readFileSync(path), body);
    const digest = createHash('sha256').update(body).digest('hex');
    assert.ok(logs.some((l) => l === `sha256 of ${url}: ${digest} (no official checksum published)`), logs.join('\n'));
  } finally {
    server.close();
  }
  assert.equal(existsSync(join(dir, 'w.pth')), true);
});
