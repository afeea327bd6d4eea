import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CACHE_BUDGET, legacyPreprocess, parsePreprocess, planImageCache, resolveDataConfig, serializePreprocess, storedSize,
} from '../src/data/index.js';
import { getModelConfig } from '../src/models/index.js';
import { TlcvError } from '../src/errors.js';

const photos = { channels: 3, height: 3024, width: 4032 };

test('resolveDataConfig: 224 for the zoo ImageNet models on photos, the data size for small images, never a raw photo size', () => {
  for (const name of ['resnet18', 'mobilenet_v2_035']) {
    const cfg = resolveDataConfig({ model: getModelConfig(name), data: photos });
    assert.deepEqual(cfg.inputSize, [3, 224, 224], name);
    assert.deepEqual([cfg.resize, cfg.cropPct, cfg.interpolation], ['aspect', 0.875, 'bilinear']);
    assert.deepEqual(cfg.train, { randomResizedCrop: { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, hflip: true });
    assert.deepEqual(cfg.mean, [0.485, 0.456, 0.406]);
  }
  // seed-cnn's photo size (64x64: its classifier grows with the input), neither its digits' 28x28 nor 3024x4032.
  assert.deepEqual(resolveDataConfig({ model: getModelConfig('seed-cnn'), data: photos }).inputSize, [3, 64, 64]);
  assert.deepEqual(resolveDataConfig({ model: getModelConfig('seed-cnn'), data: { channels: 1, height: 28, width: 28 } }).inputSize, [1, 28, 28]);
  // Digit-sized data keeps its size (at least the model minimum) and the whole-image resize.
  const digits = resolveDataConfig({ model: getModelConfig('resnet18'), data: { channels: 1, height: 28, width: 28 } });
  assert.deepEqual([digits.inputSize, digits.resize, digits.cropPct, digits.train.randomResizedCrop, digits.mean.length], [[1, 32, 32], 'fill', 1, null, 1]);
  // Flags override.
  const asked = resolveDataConfig({ model: getModelConfig('resnet18'), data: photos, inputSize: [160, 128], cropPct: 0.95, interpolation: 'bicubic', resize: 'fill', trainCrop: false });
  assert.deepEqual([asked.inputSize, asked.cropPct, asked.interpolation, asked.resize, asked.train.randomResizedCrop], [[3, 160, 128], 0.95, 'bicubic', 'fill', null]);
  assert.throws(() => resolveDataConfig({ model: getModelConfig('resnet18'), data: photos, inputSize: [16, 16] }), /--input-size: expected at least 32x32/);
});

test("resolveDataConfig: a model's own crop_pct and resize kernel (its weights' transforms) stand where the user sets none", () => {
  const own = { ...getModelConfig('resnet18'), cropPct: 224 / 236, interpolation: 'bicubic' as const };
  const cfg = resolveDataConfig({ model: own, data: photos });
  assert.deepEqual([cfg.cropPct, cfg.interpolation], [224 / 236, 'bicubic']);
  const asked = resolveDataConfig({ model: own, data: photos, cropPct: 1, interpolation: 'bilinear' });
  assert.deepEqual([asked.cropPct, asked.interpolation], [1, 'bilinear']);
  // Digit-sized data is still resized whole: the photo crop does not apply to it.
  assert.equal(resolveDataConfig({ model: own, data: { channels: 1, height: 28, width: 28 } }).cropPct, 1);
});

test('stored sizes follow torchvision Resize(int) and timm floor(size / crop_pct)', () => {
  const cfg = resolveDataConfig({ model: getModelConfig('resnet18'), data: photos });
  assert.deepEqual(storedSize(3024, 4032, cfg), [256, 341]);
  assert.deepEqual(storedSize(4032, 3024, cfg), [341, 256]);
  assert.deepEqual(storedSize(100, 100, cfg), [256, 256]);
  assert.deepEqual(storedSize(3024, 4032, { ...cfg, resize: 'fill' }), [256, 256]);
  // A non-square input: the smallest aspect-kept size covering floor(h / 0.875) x floor(w / 0.875).
  assert.deepEqual(storedSize(1000, 1000, { ...cfg, inputSize: [3, 224, 112] }), [256, 256]);
  assert.deepEqual(storedSize(1000, 4000, { ...cfg, inputSize: [3, 224, 112] }), [256, 1024]);
});

test('the preprocessing record round-trips through JSON with timm names and refuses a bad field by name', () => {
  const cfg = resolveDataConfig({ model: getModelConfig('resnet18'), data: photos });
  const json = JSON.parse(JSON.stringify(serializePreprocess(cfg))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['input_size', 'resize', 'crop_pct', 'crop_mode', 'interpolation', 'background', 'mean', 'std', 'train']);
  assert.deepEqual(parsePreprocess(json, 'm/config.json'), cfg);
  const bad = (patch: Record<string, unknown>, re: RegExp): void => {
    assert.throws(() => parsePreprocess({ ...json, ...patch }, 'm/config.json'), (e: unknown) => e instanceof TlcvError && re.test(e.message));
  };
  bad({ crop_pct: 1.5 }, /^m\/config\.json: crop_pct must be a number in \(0, 1\], found 1\.5$/);
  bad({ interpolation: 'area' }, /interpolation must be bilinear, bicubic, nearest, lanczos, found "area"/);
  bad({ input_size: [4, 224, 224] }, /input_size must be \[channels \(1 or 3\), height, width\]/);
  bad({ std: [0.2, 0, 0.2] }, /std must be 1 or 3 positive numbers/);
  bad({ resize: 'stretch' }, /resize must be "aspect" or "fill"/);
  bad({ train: { random_resized_crop: { scale: [0.5, 0.1], ratio: [0.75, 1.33] }, hflip: true } }, /train\.random_resized_crop\.scale must be \[low, high\]/);
  assert.throws(() => parsePreprocess('nope', 'm/config.json'), /preprocess must be an object/);
  // Folders written before the record: the whole image stretched, as then.
  assert.deepEqual(legacyPreprocess({ inputSize: [1, 28, 28], mean: [0.5], std: [0.5] }).resize, 'fill');
});

test('planImageCache: off keeps nothing, on keeps all, auto keeps up to its stated budget', () => {
  const per = 256 * 341 * 3;
  assert.deepEqual(planImageCache('off', { images: 10, bytesPerImage: per }).limitBytes, 0);
  assert.equal(planImageCache('on', { images: 1e6, bytesPerImage: per }).limitBytes, Infinity);
  const auto = planImageCache('auto', { images: 5000, bytesPerImage: per });
  assert.deepEqual([auto.limitBytes, auto.fits], [DEFAULT_CACHE_BUDGET, false]);
  assert.equal(planImageCache('auto', { images: 400, bytesPerImage: per }).fits, true);
  assert.throws(() => planImageCache('maybe' as 'on', { images: 1, bytesPerImage: 1 }), /--cache-images: expected auto, on or off, got "maybe"/);
});
