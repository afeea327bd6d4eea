/**
 * A check of a CUDA build, run by hand on a machine with a GPU after building the addon against a
 * CUDA libtorch (LIBTORCH=.../site-packages/torch npm run build:native):
 *
 *   node dist/scripts/probes/cuda-check.js [--device cuda] [--peer python3] [--batch 64]
 *
 * It prints one line per check and a JSON summary, and exits 1 if a check fails. CI has no GPU,
 * so this is a probe, not a test; `--device cpu` runs the same checks on the CPU.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdamW } from '../../src/optim/index.js';
import { createModel } from '../../src/models/index.js';
import { F, cudaAvailable, liveTensors, manualSeed, randn, runtimeInfo, tidy, tensor, type Tensor } from '../../src/tensor/index.js';
import { withPlan } from '../../src/execution/index.js';
import { Learner } from '../../src/train/index.js';
import { legacyPreprocess, type ImageDataset } from '../../src/data/index.js';
import { Model, load } from '../../src/runs/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const device = flag('device', 'cuda');
const peer = flag('peer', 'python3');
const batch = Number(flag('batch', '64'));
const results: Record<string, unknown> = { device };
let failed = 0;

function check(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  results[name] = { ok, detail };
  if (!ok) failed += 1;
}

function maxRelDiff(a: Tensor, b: Tensor): number {
  return tidy(() => {
    const x = a.to('cpu').float();
    const y = b.to('cpu').float();
    return x.sub(y).abs().max().item() / Math.max(y.abs().max().item(), 1e-12);
  });
}

async function main(): Promise<void> {
  const info = runtimeInfo();
  console.log(`torch ${info.torchVersion}, CUDA available ${info.cudaAvailable}, ${info.cudaDeviceCount} device(s), ${info.threads} threads`);
  results.torch = info.torchVersion;
  if (device !== 'cpu' && !cudaAvailable()) throw new Error('this build sees no CUDA device: build the addon against a CUDA libtorch');
  const before = liveTensors().count;

  // 1. An op on the device equals the CPU's.
  tidy(() => {
    manualSeed(1);
    const a = randn([256, 256]);
    const b = randn([256, 256]);
    const d = maxRelDiff(a.to(device).matmul(b.to(device)), a.matmul(b));
    check('matmul', d < 1e-3, `max relative difference to the CPU ${d.toExponential(2)} (TF32 may be on)`);
  });

  // 2. A ResNet-18 forward and backward on the device equals the CPU's (same weights, same input).
  {
    manualSeed(2);
    const cpuModel = createModel('resnet18', { numClasses: 10, inputSize: [64, 64] });
    const devModel = createModel('resnet18', { numClasses: 10, inputSize: [64, 64] });
    devModel.loadStateDict(cpuModel.stateDict());
    devModel.to({ device });
    cpuModel.train();
    devModel.train();
    const [dl, dg] = tidy(() => {
      const x = randn([8, 3, 64, 64]);
      const y = tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int64' });
      const lc = F.crossEntropy(cpuModel.forward(x), y);
      const ld = F.crossEntropy(devModel.forward(x.to(device)), y.to(device));
      lc.backward();
      ld.backward();
      const gc = cpuModel.getSubmodule('conv1').parameters()[0]!.grad!;
      const gd = devModel.getSubmodule('conv1').parameters()[0]!.grad!;
      return [Math.abs(lc.item() - ld.item()) / Math.abs(lc.item()), maxRelDiff(gd, gc)];
    });
    check('resnet18 forward', dl < 1e-3, `loss relative difference ${dl.toExponential(2)}`);
    check('resnet18 backward', dg < 1e-2, `conv1 gradient max relative difference ${dg.toExponential(2)}`);
    const opt = new AdamW(devModel.parameters(), { lr: 1e-3 });
    opt.step();
    const paths = opt.lastStepPaths;
    check('optimizer on the device', paths.fused + paths.perOp > 0, `${paths.fused} fused, ${paths.perOp} per-op parameter updates`);
    opt.dispose?.();
    cpuModel.dispose();
    devModel.dispose();
  }

  // 3. The Learner trains and evaluates on the device (synthetic, learnable data: class = brightest quadrant).
  {
    manualSeed(3);
    const n = 256;
    const images = new Uint8Array(n * 3 * 32 * 32);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i += 1) {
      const c = i % 4;
      labels[i] = c;
      for (let p = 0; p < 3 * 32 * 32; p += 1) {
        const h = Math.floor((p % 1024) / 32);
        const w = p % 32;
        const quadrant = (h < 16 ? 0 : 2) + (w < 16 ? 0 : 1);
        images[i * 3072 + p] = quadrant === c ? 200 : 40 + ((i * 7 + p) % 30);
      }
    }
    const ds: ImageDataset = { name: 'quadrants', images, labels, n, channels: 3, height: 32, width: 32, classes: ['a', 'b', 'c', 'd'], source: 'synthetic' };
    const model = createModel('resnet18', { numClasses: 4, inputSize: [32, 32] });
    const learn = new Learner({ model, train: ds, options: { epochs: 3, batchSize: 32, device, seed: 3 }, quiet: true, cacheFrozen: false });
    const t0 = performance.now();
    await learn.fit();
    const ev = await learn.evaluate(ds);
    check('Learner fit + evaluate', ev.accuracy > 0.9, `accuracy ${(ev.accuracy * 100).toFixed(1)}% after 3 epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s, plan ${JSON.stringify(learn.plan)}`);
    const dir = mkdtempSync(join(tmpdir(), 'tlcv-cuda-'));
    Model.wrap(learn.model, { classes: ds.classes, preprocess: legacyPreprocess(learn.model.config) }).save(join(dir, 'model'));
    const back = await load(join(dir, 'model'), { device });
    const ev2 = await back.evaluate(ds);
    check('save and load', Math.abs(ev2.accuracy - ev.accuracy) < 1e-9, `reloaded accuracy ${(ev2.accuracy * 100).toFixed(1)}%`);
    // Feature extraction: the frozen prefix's outputs cached on the device, the head trained on them.
    const fe = new Learner({ model: back.module, train: ds, options: { epochs: 2, batchSize: 32, device, seed: 3 }, quiet: true });
    fe.setStrategy('feature-extraction');
    await fe.fit();
    const ev3 = await fe.evaluate(ds);
    check('feature extraction', fe.startStage > 0 && ev3.accuracy > 0.5, `frozen outputs cached (from stage ${fe.startStage}), accuracy ${(ev3.accuracy * 100).toFixed(1)}%`);
    back.dispose();
    model.dispose();
  }
  check('no leaked tensors', liveTensors().count === before, `${liveTensors().count - before} tensors left`);

  // 4. Training throughput at 224 px against the peer's PyTorch on the same device.
  for (const bf16 of [false, true]) {
    manualSeed(4);
    const model = createModel('resnet18', { numClasses: 1000 });
    model.to({ device, memoryFormat: bf16 ? 'channelsLast' : 'contiguous' });
    model.train();
    const opt = new AdamW(model.parameters(), { lr: 1e-4 });
    const step = (): void =>
      tidy(() => {
        let x = randn([batch, 3, 224, 224], { device });
        if (bf16) x = x.contiguous('channelsLast');
        const y = tensor(Array.from({ length: batch }, (_, i) => i % 1000), { dtype: 'int64', device });
        const out = withPlan({ bf16, channelsLast: bf16, device }, () => model.forward(x));
        F.crossEntropy(out.float(), y).backward();
        opt.step();
        opt.zeroGrad();
        out.float().sum().item(); // synchronises the device
      });
    for (let i = 0; i < 3; i += 1) step();
    const iters = 10;
    const t0 = performance.now();
    for (let i = 0; i < iters; i += 1) step();
    const ips = (batch * iters) / ((performance.now() - t0) / 1000);
    results[`tlcv ${bf16 ? 'bf16+CL' : 'fp32'} img/s`] = ips;
    console.log(`tlcv resnet18 224 px train, batch ${batch}, ${bf16 ? 'bf16 autocast + channels-last' : 'fp32'}: ${ips.toFixed(0)} images/s`);
    opt.dispose?.();
    model.dispose();
  }
  const script = resolve('peers/cuda_check.py');
  const r = spawnSync(peer, [script, device, String(batch)], { encoding: 'utf8' });
  if (r.status === 0) {
    const p = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
    for (const [k, v] of Object.entries(p)) {
      results[`PyTorch ${k} img/s`] = v;
      const mine = results[`tlcv ${k} img/s`] as number;
      console.log(`PyTorch ${k}: ${v.toFixed(0)} images/s; tlcv / PyTorch ${(mine / v).toFixed(2)}x`);
    }
  } else {
    console.log(`peer failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  }
  const out = join(tmpdir(), 'tlcv-cuda-check.json');
  writeFileSync(out, JSON.stringify(results, null, 1));
  console.log(JSON.stringify(results));
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
