import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, isFileDataset, loadDataset, loadImageFolder, preprocessImageFile, resolveDataConfig, type Dataset, type ImageFileDataset } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';
import { jpegBomb, pngBomb, writePhoto } from './helpers/photos.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-hostile-'));
const cfg = resolveDataConfig({ model: { inputSize: [3, 224, 224], mean: [0.5], std: [0.5] }, data: { channels: 3, height: 120, width: 160 }, inputSize: [64, 64] });

async function folder(name: string, n: number): Promise<string> {
  const dir = join(root, name);
  for (let i = 0; i < n; i += 1) await writePhoto(join(dir, i % 2 ? 'b' : 'a', `${String(i).padStart(3, '0')}.jpg`), { width: 160, height: 120, seed: i, quality: 80 });
  return dir;
}

async function drain(loader: DataLoader): Promise<number[]> {
  const seen: number[] = [];
  for await (const b of loader) {
    seen.push(...b.indices);
    b.x.dispose();
    b.y.dispose();
  }
  return seen;
}

const files = (ds: Dataset): ImageFileDataset => {
  assert.ok(isFileDataset(ds));
  return ds;
};

test('decompression bombs (a PNG claiming 50,000^2, a JPEG claiming 65,535^2) are refused from their headers, per file', async () => {
  const dir = await folder('bombs', 4);
  writeFileSync(join(dir, 'a', 'bomb.png'), pngBomb());
  writeFileSync(join(dir, 'b', 'bomb.jpg'), await jpegBomb());
  const spec = `folder:${dir}`;
  await assert.rejects(loadDataset(spec, { stream: true, preprocess: cfg }), (e: unknown) => {
    assert.ok(e instanceof TlcvError && e.code === 'DATA');
    assert.match(e.message, /2 bad image files/);
    assert.match(e.message, /a\/bomb\.png: claims 50000x50000 pixels \(2500 megapixels\), over the limit of 268 megapixels: a decompression bomb/);
    // libjpeg refuses sides past 65,500 before sharp reports a size.
    assert.match(e.message, /b\/bomb\.jpg: .*(65535x65535|65500 pixels).*decompression bomb/);
    return true;
  });
  const warnings: string[] = [];
  const ds = files(await loadDataset(spec, { stream: true, preprocess: cfg, onBadImage: 'skip', log: (m) => warnings.push(m) }));
  assert.equal(ds.n, 4);
  assert.match(warnings.join('\n'), /skipped 2 bad image files[\s\S]*bomb\.png[\s\S]*bomb\.jpg/);
  // The in-memory loader and the one-file path refuse them the same way.
  await assert.rejects(loadImageFolder(dir), /bomb\.png: claims 50000x50000/);
  await assert.rejects(preprocessImageFile(join(dir, 'a', 'bomb.png'), cfg), /image file .*bomb\.png: claims 50000x50000 pixels/);
  // A bomb put in place of an indexed file is stopped by the decoder's own pixel limit.
  rmSync(join(dir, 'a', 'bomb.png'));
  rmSync(join(dir, 'b', 'bomb.jpg'));
  const strict = files(await loadDataset(spec, { stream: true, preprocess: cfg, cacheImages: 'off' }));
  writeFileSync(join(dir, 'a', '000.jpg'), pngBomb());
  await assert.rejects(drain(new DataLoader(strict, { batchSize: 2, mean: [0.5], std: [0.5] })), /TlcvError: image file .*000\.jpg: its size is over the limit of 268 megapixels: a decompression bomb/);
});

test('a file deleted after indexing: a clean error naming it under error, a warning and a smaller batch under skip', async () => {
  const dir = await folder('deleted', 6);
  const gone = join(dir, 'a', '002.jpg');
  const strict = files(await loadDataset(`folder:${dir}`, { stream: true, preprocess: cfg, cacheImages: 'off' }));
  const warnings: string[] = [];
  const lenient = files(await loadDataset(`folder:${dir}`, { stream: true, preprocess: cfg, cacheImages: 'off', onBadImage: 'skip', log: (m) => warnings.push(m) }));
  const loader = (ds: ImageFileDataset): DataLoader => new DataLoader(ds, { batchSize: 4, mean: [0.5], std: [0.5] });
  assert.equal((await drain(loader(strict))).length, 6);
  rmSync(gone);
  await assert.rejects(drain(loader(strict)), (e: unknown) => {
    assert.ok(e instanceof TlcvError && e.code === 'DATA');
    assert.match(e.message, /^image file .*a\/002\.jpg: the file no longer exists \(deleted or moved after the folder was indexed\?\) \(use --on-bad-image skip/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  const position = lenient.fileIds.findIndex((id) => lenient.files.paths[id] === gone);
  const seen = await drain(loader(lenient));
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5].filter((i) => i !== position));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /skipped bad image file a\/002\.jpg .*no longer exists/);
  // Not tried again, not warned again.
  assert.equal((await drain(loader(lenient))).length, 5);
  assert.equal(warnings.length, 1);
});

test('RSS stays flat over streaming epochs of a few hundred files (index only, no cache)', async () => {
  const dir = await folder('rss', 240);
  const ds = files(await loadDataset(`folder:${dir}`, { stream: true, preprocess: cfg, train: true, cacheImages: 'off' }));
  const loader = new DataLoader(ds, { batchSize: 32, shuffle: true, seed: 1, mean: [0.5], std: [0.5] });
  const rss: number[] = [];
  for (let epoch = 0; epoch < 4; epoch += 1) {
    loader.setEpoch(epoch);
    assert.equal((await drain(loader)).length, 240);
    rss.push(process.memoryUsage().rss);
  }
  const growth = (rss[3]! - rss[1]!) / 2 ** 20;
  console.log(`RSS after epochs 1-4: ${rss.map((r) => (r / 2 ** 20).toFixed(0)).join(', ')} MiB (growth from epoch 2 to 4: ${growth.toFixed(1)} MiB)`);
  assert.ok(growth < 24, `RSS grew ${growth.toFixed(1)} MiB from epoch 2 to 4`);
});
