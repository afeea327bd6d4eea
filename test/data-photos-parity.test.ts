import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preprocessImageFile, resolveDataConfig } from '../src/data/index.js';
import { runPeer } from './helpers/peer.js';
import { writePhoto } from './helpers/photos.js';

test("eval preprocessing matches torchvision's Resize + CenterCrop on the same JPEGs (PIL bilinear vs libvips with shrink-on-load)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-parity-'));
  // Sizes that exercise JPEG shrink-on-load (4x and more), no shrink, portrait, wide and upsampling.
  const sizes: [number, number][] = [[1600, 1200], [1200, 1600], [2000, 1000], [640, 480], [500, 500], [200, 150]];
  const paths: string[] = [];
  for (const [i, [w, h]] of sizes.entries()) {
    const p = join(dir, `${i}.jpg`);
    await writePhoto(p, { width: w, height: h, seed: 10 + i, quality: 92 });
    paths.push(p);
  }
  const size = 224;
  const cfg = resolveDataConfig({ model: { inputSize: [3, 224, 224], mean: [0.5], std: [0.5] }, data: { channels: 3, height: 1200, width: 1600 } });
  assert.deepEqual([cfg.inputSize, cfg.cropPct, cfg.interpolation, cfg.resize], [[3, 224, 224], 0.875, 'bilinear', 'aspect']);
  const job = join(dir, 'job.json');
  writeFileSync(job, JSON.stringify({ paths, size, crop_pct: cfg.cropPct }));
  const peer = runPeer('photo_eval.py', [job]).tensors.get('x')!;
  const theirs = peer.toTypedArray() as Uint8Array;
  const per = 3 * size * size;
  const diffs: string[] = [];
  let total = 0;
  for (const [i, p] of paths.entries()) {
    const ours = await preprocessImageFile(p, cfg);
    let sum = 0;
    for (let k = 0; k < per; k += 1) sum += Math.abs(ours[k]! - theirs[i * per + k]!);
    const mad = sum / per;
    total += mad;
    diffs.push(`${sizes[i]!.join('x')}: ${mad.toFixed(2)}`);
    // A misplaced crop or a stretched image differs by tens of levels on this content.
    assert.ok(mad < 2, `mean absolute difference ${mad.toFixed(2)} for ${sizes[i]!.join('x')}`);
  }
  peer.dispose();
  const mean = total / paths.length;
  console.log(`eval preprocessing vs torchvision, mean absolute pixel difference (0-255): ${mean.toFixed(2)} (${diffs.join(', ')})`);
  assert.ok(mean < 1, `mean absolute difference ${mean.toFixed(2)}`);
});
