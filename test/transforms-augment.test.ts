import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Augmenter, parseAugment, warp, rotation, translation, compose, writeAugmentationGrid, type AugmentParams } from '../src/transforms/index.js';
import { TlcvError } from '../src/errors.js';
import { F, fromTypedArray, invoke, liveTensors, rand, manualSeed, tidy, type Tensor } from '../src/tensor/index.js';
import type { ImageDataset } from '../src/data/index.js';
import { assertClose } from './helpers/assert-close.js';
import { runPeer, writePeerInput } from './helpers/peer.js';

/** 1x1x5x5 with distinct values, asymmetric in both directions. */
const small = (): Tensor => fromTypedArray(Float32Array.from({ length: 25 }, (_, i) => i / 24), [1, 1, 5, 5]);
const pixel = (t: Tensor, y: number, x: number): number => t.toFlatArray()[y * t.shape[3]! + x]!;

function fixed(n: number, over: Partial<AugmentParams>): AugmentParams {
  const fill = <T>(v: T): T[] => new Array<T>(n).fill(v);
  return { angle: fill(0), shiftX: fill(0), shiftY: fill(0), shear: fill(0), zoomX: fill(1), zoomY: fill(1), hflip: fill(false), vflip: fill(false), crop: fill(null), brightness: fill(1), contrast: fill(1), erase: fill(null), ...over };
}

test('zero ranges are the identity: disabled returns the input; an identity warp changes nothing', () => {
  tidy(() => {
    const x = rand([3, 2, 7, 9]);
    const off = new Augmenter({ rotationRange: 0, widthShiftRange: 0, heightShiftRange: 0, shearRange: 0, zoomRange: 0, horizontalFlip: false }, 1);
    assert.equal(off.enabled, false);
    assert.equal(off.apply(x), x);
    // Ranges of width zero still run the warp path, which must then be exact.
    const zero = new Augmenter({ rotationRange: [0, 0], zoomRange: [1, 1] }, 1);
    assert.equal(zero.enabled, true);
    assertClose(zero.apply(x), x, { atol: 1e-6, rtol: 0, what: 'identity warp' });
  });
});

test('a 90-degree rotation turns the image counter-clockwise; a flip mirrors it', () => {
  tidy(() => {
    const x = small();
    const rot = new Augmenter({ rotationRange: [90, 90] }, 0).apply(x);
    assertClose(rot, invoke('rot90', [x, 1, [2, 3]]) as Tensor, { atol: 1e-6, what: 'rotate 90' });
    // Top-right (0, 4) moves to top-left; top-left moves to bottom-left.
    assert.ok(Math.abs(pixel(rot, 0, 0) - pixel(x, 0, 4)) < 1e-6);
    assert.ok(Math.abs(pixel(rot, 4, 0) - pixel(x, 0, 0)) < 1e-6);
    const flipper = new Augmenter({ horizontalFlip: true }, 0);
    const flipped = flipper.applyWith(x, fixed(1, { hflip: [true] }));
    assert.ok(Math.abs(pixel(flipped, 1, 0) - pixel(x, 1, 4)) < 1e-7);
    assert.ok(Math.abs(pixel(flipped, 3, 4) - pixel(x, 3, 0)) < 1e-7);
    const kept = flipper.applyWith(x, fixed(1, { hflip: [false] }));
    assertClose(kept, x, { atol: 0, rtol: 0 });
    // With a warp, flips ride along in the same grid (Keras flips after the warp).
    const warped = new Augmenter({ rotationRange: [90, 90], horizontalFlip: true, verticalFlip: true }, 0);
    assertClose(warped.applyWith(x, fixed(1, { angle: [0], hflip: [true] })), F.flip(x, [3]), { atol: 1e-6, what: 'hflip in the warp' });
    assertClose(warped.applyWith(x, fixed(1, { angle: [0], vflip: [true] })), F.flip(x, [2]), { atol: 1e-6, what: 'vflip in the warp' });
    const rotFlip = warped.applyWith(x, fixed(1, { angle: [90], hflip: [true] }));
    assertClose(rotFlip, F.flip(invoke('rot90', [x, 1, [2, 3]]) as Tensor, [3]), { atol: 1e-6, what: 'rotate then flip' });
    const both = fromTypedArray(Float32Array.from({ length: 50 }, (_, i) => i), [2, 1, 5, 5]);
    const mixed = flipper.applyWith(both, fixed(2, { hflip: [false, true] })).toFlatArray();
    assert.deepEqual([mixed[0], mixed[25]], [0, 29]);
  });
});

test('Keras semantics: zoom above 1 shrinks content toward the centre, a shift moves it', () => {
  tidy(() => {
    const dot = new Float32Array(81);
    dot[4 * 9 + 8] = 1;
    const x = fromTypedArray(dot, [1, 1, 9, 9]);
    const aug = new Augmenter({ zoomRange: 0.5, widthShiftRange: 0.2, fillMode: 'constant' }, 0);
    const zoomed = aug.applyWith(x, fixed(1, { zoomX: [2], zoomY: [2] }));
    assert.ok(Math.abs(pixel(zoomed, 4, 6) - 1) < 1e-6, 'the dot 4 px right of centre is now 2 px right');
    const shifted = aug.applyWith(x, fixed(1, { shiftX: [-2] }));
    assert.ok(Math.abs(pixel(shifted, 4, 6) - 1) < 1e-6);
    assert.ok(Math.abs(shifted.sum().item() - 1) < 1e-6);
  });
});

test('sampled parameters stay inside their ranges, flips happen about half the time', () => {
  const aug = new Augmenter(
    { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.2, shearRange: 5, zoomRange: 0.1, horizontalFlip: true, randomResizedCrop: { scale: [0.3, 1], ratio: [0.75, 1.33] }, brightness: 0.2, contrast: 0.3, randomErasing: 0.5 },
    3,
  );
  const n = 2000;
  const [h, w] = [28, 32];
  const p = aug.sample(n, h, w);
  const within = (v: number[], lo: number, hi: number, what: string): void => assert.ok(v.every((x) => x >= lo && x <= hi), `${what} outside [${lo}, ${hi}]`);
  within(p.angle, -10, 10, 'angle');
  within(p.shiftX, -0.1 * w, 0.1 * w, 'shiftX');
  within(p.shiftY, -0.2 * h, 0.2 * h, 'shiftY');
  within(p.shear, -5, 5, 'shear');
  within([...p.zoomX, ...p.zoomY], 0.9, 1.1, 'zoom');
  within(p.brightness, 0.8, 1.2, 'brightness');
  within(p.contrast, 0.7, 1.3, 'contrast');
  assert.ok(Math.min(...p.angle) < -9 && Math.max(...p.angle) > 9, 'the whole range is used');
  const flips = p.hflip.filter(Boolean).length / n;
  assert.ok(flips > 0.45 && flips < 0.55, `flip rate ${flips}`);
  assert.ok(p.vflip.every((f) => !f));
  for (const box of p.crop) {
    assert.ok(box !== null);
    const [top, left, bh, bw] = box;
    assert.ok(top >= 0 && left >= 0 && top + bh <= h && left + bw <= w, `crop ${box}`);
  }
  const erased = p.erase.filter((e) => e !== null);
  assert.ok(erased.length > 0.4 * n && erased.length < 0.6 * n);
  for (const [top, left, bh, bw] of erased as [number, number, number, number][]) {
    assert.ok(top >= 0 && left >= 0 && top + bh <= h && left + bw <= w && bh * bw <= 0.33 * h * w + w + h);
  }
});

test('every part at once gives finite output in [0, 1], the same for the same seed', () => {
  const opts = parseAugment('spec,crop=0.5,brightness=0.3,contrast=0.3,erase=0.5,vflip');
  const before = liveTensors().count;
  tidy(() => {
    manualSeed(1);
    const x = rand([16, 3, 20, 24]);
    const a = new Augmenter(opts, 7).apply(x);
    assert.deepEqual(a.shape, x.shape);
    assert.equal(a.unary('isfinite').to('float32').min().item(), 1);
    assert.ok(a.min().item() >= 0 && a.max().item() <= 1);
    assertClose(new Augmenter(opts, 7).apply(x), a, { atol: 0, rtol: 0, what: 'same seed' });
    assert.ok(new Augmenter(opts, 8).apply(x).sub(a).abs().max().item() > 0.01, 'another seed differs');
  });
  assert.equal(liveTensors().count, before);
});

test('random erasing blanks exactly the sampled box', () => {
  tidy(() => {
    const x = fromTypedArray(new Float32Array(2 * 3 * 10 * 10).fill(1), [2, 3, 10, 10]);
    const aug = new Augmenter({ randomErasing: { p: 1, value: 0 } }, 2);
    const p = aug.sample(2, 10, 10);
    const y = aug.applyWith(x, p);
    p.erase.forEach((box, i) => {
      assert.ok(box !== null);
      const zeros = 300 - y.narrow(0, i, 1).sum().item();
      assert.equal(zeros, 3 * box[2] * box[3]);
      const v = y.toFlatArray()[i * 300 + box[0] * 10 + box[1]];
      assert.equal(v, 0);
    });
  });
});

test('parity: rotation and translation match torchvision.transforms.functional.affine', () => {
  tidy(() => {
    manualSeed(3);
    const x = rand([2, 3, 9, 11]);
    const cases = [
      { angle: 30, translate: [0, 0] },
      { angle: -75, translate: [2, -1] },
      { angle: 0, translate: [3, 2] },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'tlcv-aug-peer-'));
    writePeerInput(dir, { x }, { cases });
    const peer = runPeer('augment_affine.py', [dir]);
    cases.forEach((c, i) => {
      const map = compose(rotation(c.angle), translation(c.translate[0]!, c.translate[1]!));
      const ours = warp(x, [map, map], { fill: 'constant' });
      assertClose(ours, peer.tensors.get(`case${i}`)!, { atol: 1e-5, rtol: 1e-4, what: `affine case ${i}` });
    });
    assertClose(F.flip(x, [3]), peer.tensors.get('hflip')!, { atol: 0, rtol: 0 });
    for (const t of peer.tensors.values()) t.dispose();
  });
});

test('parseAugment: presets, settings, overrides and clear errors', () => {
  assert.deepEqual(parseAugment('none'), {});
  assert.deepEqual(parseAugment('spec'), { rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, shearRange: 0.1, zoomRange: 0.1, horizontalFlip: true });
  assert.equal(parseAugment('light').horizontalFlip, undefined);
  assert.deepEqual(parseAugment('light,rotation=15,hflip').rotationRange, 15);
  assert.deepEqual(parseAugment('rotation=-5:20,zoom=0.8:1.2,crop=0.5,erase,fill=reflect'), {
    rotationRange: [-5, 20],
    zoomRange: [0.8, 1.2],
    randomResizedCrop: { scale: [0.5, 1] },
    randomErasing: 0.5,
    fillMode: 'reflect',
  });
  assert.equal(new Augmenter(parseAugment('none')).enabled, false);
  assert.equal(new Augmenter(parseAugment('standard')).enabled, true);
  const bad = (flag: string, re: RegExp): void => assert.throws(() => parseAugment(flag), (e: unknown) => e instanceof TlcvError && re.test(e.message), flag);
  bad('', /empty/);
  bad('wild', /unknown setting "wild".*none, spec, light, standard/);
  bad('rotation=abc', /rotation=abc: expected a number/);
  bad('shift=2', /shift=2: expected a number in \[0, 1\]/);
  bad('rotation', /needs a value/);
  bad('rotation=1,rotation=2', /twice/);
  bad('hflip,light', /preset "light" must come first/);
  bad('light,', /empty setting/);
  bad('fill=wrap', /nearest, constant or reflect/);
  assert.throws(() => new Augmenter({ zoomRange: [0, 1] }), (e: unknown) => e instanceof TlcvError && /zoomRange/.test(e.message));
  assert.throws(() => new Augmenter({ rotationRange: 5 }, -1), /seed/);
});

test('writeAugmentationGrid writes a PNG atomically, originals in the first column', async () => {
  const n = 6;
  const images = Uint8Array.from({ length: n * 64 }, (_, i) => (i * 13) % 256);
  const ds: ImageDataset = { name: 'toy', images, labels: Int32Array.from({ length: n }, (_, i) => i % 2), n, channels: 1, height: 8, width: 8, classes: ['a', 'b'], source: 't' };
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-grid-'));
  const out = join(dir, 'sub', 'grid.png');
  await writeAugmentationGrid(ds, new Augmenter(parseAugment('light'), 1), out, { n: 4, variants: 3, seed: 2, minTile: 8 });
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['grid.png']);
  const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 4 * 8 + 5 * 2);
  assert.equal(info.height, 4 * 8 + 5 * 2);
  // Tile (row 0, column 0) is an untouched original from the dataset.
  const tile = Array.from({ length: 64 }, (_, p) => data[((2 + Math.floor(p / 8)) * info.width + 2 + (p % 8)) * info.channels]!);
  const originals = Array.from({ length: n }, (_, i) => Array.from(images.subarray(i * 64, (i + 1) * 64)));
  assert.ok(originals.some((o) => o.every((v, k) => v === tile[k])), 'first tile is one of the originals');
});
