import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageFolder, loadDataset, decodeImage } from '../src/data/index.js';
import { TlcvError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-folder-'));

type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff';

/** Writes an image from raw HWC bytes; channels 1 is saved as a true grayscale image. */
async function writeImage(path: string, w: number, h: number, c: 1 | 3 | 4, fill: (x: number, y: number, ch: number) => number, format: Format = 'png'): Promise<void> {
  const raw = Buffer.alloc(w * h * c);
  for (let y = 0; y < h; y += 1) for (let x = 0; x < w; x += 1) for (let ch = 0; ch < c; ch += 1) raw[(y * w + x) * c + ch] = fill(x, y, ch);
  let img = sharp(raw, { raw: { width: w, height: h, channels: c } });
  if (c === 1) img = img.toColourspace('b-w');
  const opts = format === 'png' || format === 'tiff' || format === 'webp' ? { lossless: true } : {};
  writeFileSync(path, await img.toFormat(format, opts).toBuffer());
}

function mk(...parts: string[]): string {
  const p = join(root, ...parts);
  mkdirSync(p, { recursive: true });
  return p;
}

const grayValue = (x: number, y: number): number => (x * 20 + y * 3) % 256;

test('classes are sorted by name and pixels decode exactly (gray PNG, RGB PNG, lossless WebP and TIFF, GIF)', async () => {
  const base = mk('sorted');
  for (const cls of ['zebra', 'apple', 'Mango']) mk('sorted', cls);
  await writeImage(join(base, 'zebra', 'z1.png'), 6, 4, 3, (x, y, c) => (c === 0 ? x * 40 : c === 1 ? y * 60 : 200));
  await writeImage(join(base, 'apple', 'a1.webp'), 6, 4, 3, (x, y, c) => (c === 2 ? x * 40 : c === 1 ? y * 60 : 10));
  await writeImage(join(base, 'apple', 'a2.tiff'), 6, 4, 3, (x) => x * 10);
  await writeImage(join(base, 'Mango', 'm1.gif'), 6, 4, 3, (x) => (x < 3 ? 0 : 255));
  await writeImage(join(base, 'Mango', 'm0.png'), 6, 4, 1, grayValue);
  writeFileSync(join(base, 'apple', '.DS_Store'), 'litter');
  const ds = await loadImageFolder(base, { channels: 3 });
  assert.deepEqual(ds.classes, ['Mango', 'apple', 'zebra']);
  assert.deepEqual(Array.from(ds.labels), [0, 0, 1, 1, 2]);
  assert.deepEqual([ds.n, ds.channels, ds.height, ds.width], [5, 3, 4, 6]);
  const img = (i: number): Uint8Array => ds.images.subarray(i * 72, (i + 1) * 72);
  // m0.png (gray) repeated into three planes; files sort within a class.
  const gray = Array.from({ length: 24 }, (_, p) => grayValue(p % 6, Math.floor(p / 6)));
  assert.deepEqual(Array.from(img(0)), [...gray, ...gray, ...gray]);
  // GIF: two flat halves survive the palette.
  assert.deepEqual(Array.from(img(1).subarray(0, 6)), [0, 0, 0, 255, 255, 255]);
  // z1.png: planar R, G, B.
  const z = img(4);
  assert.deepEqual([z[5], z[24 + 6 * 3], z[48]], [200, 180, 200]);
  assert.equal(z[2], 80);
  // a1.webp (lossless): blue plane is x * 40.
  assert.deepEqual(Array.from(img(2).subarray(48, 54)), [0, 40, 80, 120, 160, 200]);
});

test('channels: all-gray folders load as 1 channel, RGBA is flattened over black, odd sizes resize to the common size', async () => {
  const base = mk('mixed');
  mk('mixed', 'a');
  mk('mixed', 'b');
  await writeImage(join(base, 'a', '1.png'), 8, 6, 1, () => 100);
  await writeImage(join(base, 'a', '2.png'), 8, 6, 1, () => 50);
  await writeImage(join(base, 'b', '3.png'), 13, 7, 1, () => 200);
  const logs: string[] = [];
  const gray = await loadImageFolder(base, { log: (m) => logs.push(m) });
  assert.deepEqual([gray.channels, gray.height, gray.width], [1, 6, 8]);
  assert.ok(gray.images.subarray(96, 144).every((v) => Math.abs(v - 200) <= 1), 'resized flat image keeps its value');
  assert.ok(logs.some((m) => /1 of 3 images.*6x8/.test(m)), logs.join('\n'));
  // A transparent-left / opaque-right RGBA image makes the folder RGB.
  await writeImage(join(base, 'b', '4.png'), 8, 6, 4, (x, _y, c) => (c === 3 ? (x < 4 ? 0 : 255) : c === 0 ? 250 : 120));
  const rgb = await loadImageFolder(base, { size: [6, 8] });
  assert.equal(rgb.channels, 3);
  const last = rgb.images.subarray(3 * 144, 4 * 144);
  assert.deepEqual([last[0], last[7], last[48 + 7], last[96 + 3]], [0, 250, 120, 0]);
  const white = await loadImageFolder(base, { size: [6, 8], background: 'white' });
  assert.equal(white.images[3 * 144], 255);
  // A JPEG at an odd size, resized on load.
  await writeImage(join(base, 'a', '5.jpg'), 9, 5, 3, () => 128, 'jpeg');
  const withJpeg = await loadImageFolder(base, { size: [6, 8], channels: 1 });
  assert.equal(withJpeg.n, 5);
  assert.ok(Math.abs(withJpeg.images[2 * 48 + 10]! - 128) <= 3);
});

test('split folders: classes are the union over splits, and the split must be named', async () => {
  const base = mk('splits');
  for (const [split, cls] of [['train', 'cat'], ['train', 'dog'], ['val', 'dog'], ['val', 'emu']]) {
    mk('splits', split!, cls!);
    await writeImage(join(base, split!, cls!, 'x.png'), 4, 4, 3, () => 9);
  }
  const logs: string[] = [];
  const val = await loadImageFolder(base, { split: 'val', log: (m) => logs.push(m) });
  assert.deepEqual(val.classes, ['cat', 'dog', 'emu']);
  assert.deepEqual(Array.from(val.labels), [1, 2]);
  assert.ok(logs.some((m) => /class "cat" has no folder/.test(m)));
  const train = await loadDataset(`folder:${base}:train`);
  assert.deepEqual(Array.from(train.labels), [0, 1]);
  await assert.rejects(loadImageFolder(base), (e: unknown) => e instanceof TlcvError && /split folders \(train, val\)/.test(e.message));
  await assert.rejects(loadImageFolder(base, { split: 'test' }), (e: unknown) => e instanceof TlcvError && /no "test" split folder: it has train, val/.test(e.message));
});

test('bad files: "error" lists every one, "skip" leaves them out with a warning', async () => {
  const base = mk('bad');
  mk('bad', 'ok');
  mk('bad', 'worse');
  await writeImage(join(base, 'ok', 'good.png'), 5, 5, 3, () => 1);
  await writeImage(join(base, 'worse', 'good2.png'), 5, 5, 3, () => 2);
  writeFileSync(join(base, 'ok', 'empty.png'), '');
  writeFileSync(join(base, 'worse', 'notes.txt'), 'not an image at all');
  writeFileSync(join(base, 'worse', 'fake.jpg'), 'GIF89a but not really');
  const png = await sharp(Buffer.alloc(64 * 64 * 3, 7), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  writeFileSync(join(base, 'worse', 'cut.png'), png.subarray(0, png.length - 40));
  await assert.rejects(loadImageFolder(base, { size: [5, 5], channels: 3 }), (e: unknown) => {
    assert.ok(e instanceof TlcvError && e.code === 'DATA');
    for (const f of ['empty.png', 'notes.txt', 'fake.jpg', 'cut.png']) assert.ok(e.message.includes(f), `${f} missing from: ${e.message}`);
    assert.match(e.message, /4 bad image files/);
    assert.match(e.message, /empty file \(0 bytes\)/);
    assert.doesNotMatch(e.message, /good/);
    return true;
  });
  const logs: string[] = [];
  const ds = await loadImageFolder(base, { onBadImage: 'skip', log: (m) => logs.push(m) });
  assert.equal(ds.n, 2);
  assert.deepEqual(Array.from(ds.labels), [0, 1]);
  assert.ok(logs.some((m) => /skipped 4 bad image files/.test(m) && m.includes('cut.png')));
});

test('empty class folder, no classes, missing and unreadable folders are clear errors', async () => {
  const base = mk('empty-class');
  mk('empty-class', 'full');
  mk('empty-class', 'hollow');
  await writeImage(join(base, 'full', '1.png'), 3, 3, 3, () => 5);
  await assert.rejects(loadImageFolder(base), (e: unknown) => e instanceof TlcvError && /with no images: .*hollow/.test(e.message));
  const none = mk('no-classes');
  writeFileSync(join(none, 'loose.png'), 'x');
  await assert.rejects(loadImageFolder(none), (e: unknown) => e instanceof TlcvError && /no class folders/.test(e.message) && e.message.includes(none));
  const missing = join(root, 'missing');
  await assert.rejects(loadImageFolder(missing), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /does not exist/.test(e.message));
  await assert.rejects(loadImageFolder(join(base, 'full', '1.png')), (e: unknown) => e instanceof TlcvError && /not a folder/.test(e.message));
  const loop = join(root, 'loop');
  symlinkSync(loop, loop);
  await assert.rejects(loadImageFolder(loop), (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && /cannot be read/.test(e.message));
  if (process.getuid?.() !== 0) {
    // Root reads any folder, so a permission test means something only for other users.
    const locked = mk('locked');
    chmodSync(locked, 0o000);
    await assert.rejects(loadImageFolder(locked), (e: unknown) => e instanceof TlcvError && /permission denied/.test(e.message));
    chmodSync(locked, 0o755);
  }
});

test('decodeImage: one file at a model size, and a typed error naming a bad file', async () => {
  const p = join(mk('single'), 'one.png');
  await writeImage(p, 10, 10, 3, (x) => (x < 5 ? 0 : 255));
  const px = await decodeImage(p, { channels: 1, height: 4, width: 4 });
  assert.equal(px.length, 16);
  assert.ok(px[0]! < 20 && px[3]! > 235);
  const bad = join(root, 'single', 'bad.png');
  writeFileSync(bad, 'nope');
  await assert.rejects(decodeImage(bad, { channels: 3, height: 4, width: 4 }), (e: unknown) => e instanceof TlcvError && e.message.includes(bad) && /not an image/.test(e.message));
});
