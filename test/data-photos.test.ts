import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataLoader, applyPreprocess, describeData, isFileDataset, loadDataset, preprocessImageFile, resolveDataConfig, inputRegion, storedSize,
  type ImageDataset, type ImageFileDataset, type PreprocessConfig,
} from '../src/data/index.js';
import { decodeStored } from '../src/data/image-decode.js';
import { Augmenter } from '../src/transforms/index.js';
import { Rng } from '../src/sampling/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { writePhoto } from './helpers/photos.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-photos-'));
const IMAGENET = { inputSize: [3, 224, 224] as [number, number, number], minInputSize: [3, 32, 32] as [number, number, number], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function cfgFor(size: number, cropPct: number): PreprocessConfig {
  return resolveDataConfig({ model: IMAGENET, data: { channels: 3, height: 200, width: 300 }, inputSize: [size, size], cropPct });
}

const isRed = (img: { data: Uint8Array; width: number; channels: number }, x: number, y: number): boolean => {
  const i = (y * img.width + x) * img.channels;
  return img.data[i]! > 200 && img.data[i + 1]! < 70 && img.data[i + 2]! < 70;
};

test('portrait and EXIF-rotated JPEGs come out upright and unstretched (marker in the top-left corner)', async () => {
  const cases = [
    { name: 'landscape', width: 240, height: 160, orientation: 1 as const },
    { name: 'portrait', width: 160, height: 240, orientation: 1 as const },
    { name: 'landscape-exif3', width: 240, height: 160, orientation: 3 as const },
    { name: 'portrait-exif6', width: 160, height: 240, orientation: 6 as const },
    { name: 'portrait-exif8', width: 160, height: 240, orientation: 8 as const },
  ];
  const cfg = cfgFor(96, 1);
  for (const c of cases) {
    const path = join(root, 'upright', `${c.name}.jpg`);
    await writePhoto(path, { width: c.width, height: c.height, marker: 60, orientation: c.orientation, seed: 1 });
    const landscape = c.width > c.height;
    const stored = await decodeStored(path, [c.height, c.width], cfg);
    assert.ok(typeof stored !== 'string', `${c.name}: ${String(stored)}`);
    // Shorter side to 96, aspect kept: 240x160 -> 144x96.
    assert.deepEqual([stored.height, stored.width], landscape ? [96, 144] : [144, 96], c.name);
    // The 60 px marker is 36 px here, square: red inside, not red just past either edge.
    assert.ok(isRed(stored, 3, 3) && isRed(stored, 30, 30), `${c.name}: marker missing from the top-left corner`);
    assert.ok(!isRed(stored, 44, 10) && !isRed(stored, 10, 44), `${c.name}: marker stretched`);
    assert.ok(!isRed(stored, stored.width - 4, 3) && !isRed(stored, 3, stored.height - 4), `${c.name}: marker in the wrong corner`);
    // Through the eval pipeline: the centre crop of 96x96 keeps the marker's inner part.
    const chw = await preprocessImageFile(path, cfg);
    const plane = 96 * 96;
    const red = (x: number, y: number): boolean => chw[y * 96 + x]! > 200 && chw[plane + y * 96 + x]! < 70;
    if (landscape) assert.ok(red(3, 20) && !red(3, 44) && !red(20, 20), c.name);
    else assert.ok(red(20, 3) && !red(44, 3) && !red(20, 20), c.name);
  }
});

test('RandomResizedCrop boxes stay in torchvision ranges, are seeded, and flips come half the time', () => {
  const cfg = cfgFor(224, 0.875);
  const [sh, sw] = storedSize(3024, 4032, cfg);
  assert.deepEqual([sh, sw], [256, 341]);
  const draw = (seed: number): { box: number[]; flip: boolean }[] => Array.from({ length: 300 }, (_, i) => inputRegion(sh, sw, { ...cfg }, new Rng(seed, i)));
  const a = draw(1);
  assert.deepEqual(a, draw(1));
  assert.notDeepEqual(a, draw(2));
  let flips = 0;
  for (const { box, flip } of a) {
    const [top, left, h, w] = box as [number, number, number, number];
    assert.ok(top >= 0 && left >= 0 && top + h <= sh && left + w <= sw && h > 0 && w > 0, `box ${box} outside ${sh}x${sw}`);
    const area = (h * w) / (sh * sw);
    // Rounding to whole pixels moves the area and ratio a little past their ranges.
    assert.ok(area >= 0.08 * 0.97 && area <= 1, `area fraction ${area}`);
    assert.ok(w / h >= (3 / 4) * 0.97 && w / h <= (4 / 3) * 1.03, `aspect ${w / h}`);
    flips += Number(flip);
  }
  assert.ok(flips > 110 && flips < 190, `${flips} flips of 300`);
  // Eval: torchvision's CenterCrop, rounding half to even.
  assert.deepEqual(inputRegion(256, 341, cfg, null), { box: [16, 58, 224, 224], flip: false });
  assert.deepEqual(inputRegion(256, 339, cfg, null).box, [16, 58, 224, 224]);
});

async function photoFolder(name: string, n: number): Promise<string> {
  const dir = join(root, name);
  for (let i = 0; i < n; i += 1) {
    const portrait = i % 3 === 0;
    await writePhoto(join(dir, i % 2 === 0 ? 'cat' : 'dog', `${i}.jpg`), { width: portrait ? 100 : 150, height: portrait ? 150 : 100, seed: i, orientation: i % 5 === 0 ? 6 : 1 });
  }
  return dir;
}

async function epochBytes(loader: DataLoader, epoch: number): Promise<number[][]> {
  loader.setEpoch(epoch);
  const out: number[][] = [];
  for await (const b of loader) {
    out.push([...b.indices, ...b.y.toFlatArray(), ...b.x.toFlatArray()]);
    b.x.dispose();
    b.y.dispose();
  }
  return out;
}

test('a streaming epoch and a cached epoch give the same batches for the same seed; shapes follow the record', async () => {
  const dir = await photoFolder('same', 10);
  const cfg = cfgFor(64, 0.875);
  const open = async (cacheImages: 'on' | 'off'): Promise<ImageFileDataset> => {
    const ds = await loadDataset(`folder:${dir}`, { stream: true, preprocess: cfg, train: true, cacheImages });
    assert.ok(isFileDataset(ds));
    return ds;
  };
  const streaming = await open('off');
  const cached = await open('on');
  assert.equal(streaming.cache, null);
  const loader = (ds: ImageFileDataset): DataLoader => new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 7, mean: cfg.mean, std: cfg.std, augment: new Augmenter({ brightness: 0.2 }, 7) });
  const before = liveTensors().count;
  const s0 = await epochBytes(loader(streaming), 0);
  const c0 = await epochBytes(loader(cached), 0);
  assert.equal(cached.cache!.size, 10);
  // Epoch 1 of the cached set comes from memory, not from the files.
  const c1 = await epochBytes(loader(cached), 1);
  const s1 = await epochBytes(loader(streaming), 1);
  assert.equal(s0.length, 3);
  assert.deepEqual(c0, s0);
  assert.deepEqual(c1, s1);
  assert.notDeepEqual(s0, s1);
  assert.equal(liveTensors().count, before);
  // Evaluation takes the centre crop: every epoch the same.
  const evalSet = applyPreprocess(cached, cfg, { train: false }) as ImageFileDataset;
  const inOrder = new DataLoader(evalSet, { batchSize: 4, mean: cfg.mean, std: cfg.std });
  assert.deepEqual(await epochBytes(inOrder, 0), await epochBytes(inOrder, 1));
  // The data's own size is its photos' most common size; the record sets the input.
  assert.deepEqual(describeData(streaming), { channels: 3, height: 100, width: 150, small: false });
  const [first] = s0;
  assert.equal(first!.length, 4 + 4 + 4 * 3 * 64 * 64);
});

test('for await over in-memory data gives exactly the synchronous batches', async () => {
  const n = 37;
  const images = new Uint8Array(n * 3 * 8 * 8).map((_v, i) => (i * 37) % 251);
  const ds: ImageDataset = { name: 'm', images, labels: Int32Array.from({ length: n }, (_v, i) => i % 3), n, channels: 3, height: 8, width: 8, classes: ['a', 'b', 'c'], source: 't' };
  const make = (): DataLoader => new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 3, mean: [0.5], std: [0.25], augment: new Augmenter({ rotationRange: 10, horizontalFlip: true }, 3) });
  const sync: number[][] = [];
  const l1 = make();
  l1.setEpoch(2);
  for (const b of l1) {
    sync.push([...b.indices, ...b.x.toFlatArray()]);
    b.x.dispose();
    b.y.dispose();
  }
  const l2 = make();
  l2.setEpoch(2);
  const asyncOut: number[][] = [];
  for await (const b of l2) {
    asyncOut.push([...b.indices, ...b.x.toFlatArray()]);
    b.x.dispose();
    b.y.dispose();
  }
  assert.deepEqual(asyncOut, sync);
});

test('split modifiers work on the streaming index; shift and synchronous iteration say why they cannot', async () => {
  const dir = await photoFolder('splits', 12);
  const spec = `folder:${dir}`;
  const opts = { stream: true as const, preprocess: cfgFor(64, 0.875) };
  const k = await loadDataset(`${spec}@k=2,seed=1`, opts);
  const rest = await loadDataset(`${spec}@k=2,seed=1,rest`, opts);
  const frac = await loadDataset(`${spec}@frac=0.5,seed=1`, opts);
  const boot = await loadDataset(`${spec}@n=20,seed=1`, opts);
  const dogs = await loadDataset(`${spec}@classes=dog`, opts);
  assert.ok([k, rest, frac, boot, dogs].every(isFileDataset));
  assert.deepEqual([k.n, rest.n, frac.n, boot.n, dogs.n], [4, 8, 6, 20, 6]);
  assert.deepEqual(dogs.classes, ['dog']);
  const paths = (d: typeof k): string[] => Array.from((d as ImageFileDataset).fileIds, (i) => (d as ImageFileDataset).files.paths[i]!);
  assert.equal(new Set([...paths(k), ...paths(rest)]).size, 12);
  await assert.rejects(loadDataset(`${spec}@shift=rotate:10`, opts), /streams from disk/);
  const loader = new DataLoader(k, { batchSize: 2, mean: [0.5], std: [0.5] });
  assert.throws(() => [...loader], /for await/);
  // Digit-sized folders still load into memory.
  await writePhoto(join(root, 'tiny', 'a', '0.png'), { width: 28, height: 28, format: 'png' });
  await writePhoto(join(root, 'tiny', 'b', '0.png'), { width: 28, height: 28, format: 'png' });
  const tiny = await loadDataset(`folder:${join(root, 'tiny')}`, { stream: true });
  assert.ok(!isFileDataset(tiny));
  assert.deepEqual([tiny.height, tiny.width], [28, 28]);
});
