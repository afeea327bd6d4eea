// The demo's source stage sized to the machine (issue 22, part C): the tier chosen from an
// injected speed (a fast machine trains on all 60,000 images, a two-core AVX2 one at 230
// images/s on fewer, a very slow one on the smallest tier), the line that says why, the
// stratified subset a tier takes, the target stage's epochs scaled to what the source left of
// the demo's five minutes, and --source-images's validation through the real binary.
// Nothing here times anything or runs the demo.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { chooseSourceTier, describeSourcePlan, parseSourceImages, sourceSubset, SOURCE_BUDGET_SECONDS, SOURCE_TIERS } from '../src/demo/source-plan.js';
import { chooseTargetScale, describeTargetPlan, scaledEpochs, targetImages, DEMO_BUDGET_SECONDS, DEMO_OVERHEAD_SECONDS } from '../src/demo/target-plan.js';
import type { ImageDataset } from '../src/data/index.js';
import { assertUserError } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-demo-plan-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tier = (imagesPerSecond: number, available = 60000): number => chooseSourceTier({ imagesPerSecond, epochs: 4, available });

test('a fast machine trains on all 60,000 source images; slower ones on the largest tier that fits 3 minutes', () => {
  assert.equal(SOURCE_BUDGET_SECONDS, 180);
  assert.deepEqual([...SOURCE_TIERS], [60000, 30000, 15000, 6000]);
  // 4 epochs x 60,000 images in 180 s needs 1,334 images/s.
  assert.equal(tier(5000), 60000);
  assert.equal(tier(1334), 60000);
  assert.equal(tier(1333), 30000);
  assert.equal(tier(700), 30000);
  assert.equal(tier(480), 15000);
  // The two-core AVX2 EPYC of the issue: 15,000 images would take 261 s, 6,000 take 104 s.
  assert.equal(tier(230), 6000);
  // Too slow for any tier: the smallest still runs (the demo needs a source model).
  assert.equal(tier(20), 6000);
  assert.equal(tier(0.5), 6000);
  // The same speed gives the same tier; a slower one never a larger tier.
  let last = Infinity;
  for (const speed of [10000, 2000, 1334, 1000, 667, 500, 334, 200, 50]) {
    const t = tier(speed);
    assert.equal(tier(speed), t);
    assert.ok(t <= last, `${speed} images/s: ${t} after ${last}`);
    last = t;
  }
});

test('the budget and the dataset size bound the tiers', () => {
  assert.equal(chooseSourceTier({ imagesPerSecond: 230, epochs: 4, available: 60000, budgetSeconds: 300 }), 15000);
  assert.equal(chooseSourceTier({ imagesPerSecond: 230, epochs: 2, available: 60000 }), 15000);
  // A smaller source set: its whole size stands for the tiers above it.
  assert.equal(tier(5000, 20000), 20000);
  assert.equal(tier(200, 20000), 6000);
  assert.equal(tier(5000, 4000), 4000);
});

test('the line names the speed, the tier and how to train on all images', () => {
  assert.equal(
    describeSourcePlan({ images: 6000, of: 60000, imagesPerSecond: 230.4, predictedSeconds: 104.2, how: 'auto' }),
    'seed-cnn trains at 230 images/s here: the source stage uses 6,000 of 60,000 images to stay within 3 minutes (about 104 s); --source-images 60000 for all of them',
  );
  assert.equal(
    describeSourcePlan({ images: 60000, of: 60000, imagesPerSecond: 2500, predictedSeconds: 96, how: 'auto' }),
    'seed-cnn trains at 2,500 images/s here: the source stage uses all 60,000 images, within 3 minutes (about 96 s)',
  );
  // A smaller source set: the largest tier, capped at its size, is how to take all of it.
  assert.match(describeSourcePlan({ images: 6000, of: 20000, imagesPerSecond: 200, predictedSeconds: 120, how: 'auto' }), /uses 6,000 of 20,000 images .*; --source-images 60000 for all of them$/);
  assert.equal(describeSourcePlan({ images: 15000, of: 60000, imagesPerSecond: null, predictedSeconds: null, how: 'forced' }), 'the source stage uses 15,000 of 60,000 images (--source-images); --source-images 60000 for all of them');
});

test('--source-images takes auto or a tier', () => {
  assert.equal(parseSourceImages('auto'), 'auto');
  for (const t of SOURCE_TIERS) assert.equal(parseSourceImages(String(t)), t);
  assert.equal(parseSourceImages('15,000'), 15000);
  for (const bad of ['', '0', '-6000', '12345', '6000.5', '1e4', 'all', '15,00,0', '60000x']) {
    assert.throws(() => parseSourceImages(bad), (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && /^--source-images: expected auto or one of 60000, 30000, 15000, 6000, got /.test(e.message), bad);
  }
});

test('a tier is a class-stratified subset of that many images, the whole set for the full tier', () => {
  const n = 600;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const ds: ImageDataset = { name: 'toy', source: 'toy', n, classes: Array.from({ length: 10 }, (_, i) => `c${i}`), channels: 1, height: 2, width: 2, images: new Uint8Array(n * 4), labels };
  assert.equal(sourceSubset(ds, 600, 0), ds);
  assert.equal(sourceSubset(ds, 60000, 0), ds);
  const sub = sourceSubset(ds, 300, 0);
  assert.equal(sub.n, 300);
  const perClass = new Array<number>(10).fill(0);
  for (let i = 0; i < sub.n; i += 1) perClass[sub.labels[i]!]! += 1;
  assert.deepEqual(perClass, new Array<number>(10).fill(30));
  assert.deepEqual(Array.from(sourceSubset(ds, 300, 0).labels), Array.from(sub.labels), 'the same seed takes the same images');
});

test('tlcv demo refuses a bad --source-images, and one combined with --quick, before loading anything', () => {
  assertUserError(['demo', '--source-images', '12345', '--out', join(root, 'a')], /^tlcv demo: --source-images: expected auto or one of 60000, 30000, 15000, 6000, got "12345"$/, { out: join(root, 'a') });
  assertUserError(['demo', '--source-images', 'lots', '--out', join(root, 'b')], /^tlcv demo: --source-images: expected auto or one of .*, got "lots"$/, { out: join(root, 'b') });
  assertUserError(['demo', '--quick', '--source-images', '6000', '--out', join(root, 'c')], /^tlcv demo: --source-images cannot be combined with --quick/, { out: join(root, 'c') });
});

test("the target stage's epochs are scaled to what the source stage leaves of five minutes", () => {
  assert.equal(DEMO_BUDGET_SECONDS, 300);
  // 10 and 100 labels for 10 digits: scratch and fine-tune, 60 epochs x 100 and 30 epochs x 1,000 images each.
  const images = targetImages([10, 100], 10);
  assert.equal(images, 2 * (60 * 100 + 30 * 1000));
  // Where everything fits (a fast machine, all 60,000 source images in 96 s): full length, and no line.
  const fast = chooseTargetScale({ imagesPerSecond: 2500, sourceSeconds: 96, images });
  assert.equal(fast.scale, 1);
  assert.equal(describeTargetPlan(fast), null);
  // This machine's 476 images/s (15,000 source images, 126 s): full length would predict 216 s,
  // past the 129 s left after the source and the overhead; half fits.
  const here = chooseTargetScale({ imagesPerSecond: 476, sourceSeconds: 126, images });
  assert.equal(here.scale, 0.5);
  assert.ok(126 + DEMO_OVERHEAD_SECONDS + here.predictedSeconds! <= DEMO_BUDGET_SECONDS);
  assert.match(describeTargetPlan(here)!, /^the target stage trains for 1\/2 of its epochs \(about 108 s\) so that the demo stays within 5 minutes; --source-images 60000 runs everything at full length$/);
  // The two-core AVX2 EPYC (6,000 source images, 104 s): a quarter.
  assert.equal(chooseTargetScale({ imagesPerSecond: 230, sourceSeconds: 104, images }).scale, 0.25);
  // Nothing fits: the smallest scale still runs; a slower machine never gets a larger scale.
  assert.equal(chooseTargetScale({ imagesPerSecond: 10, sourceSeconds: 600, images }).scale, 0.25);
  let last = 1;
  for (const speed of [5000, 1500, 900, 600, 476, 300, 230, 100, 20]) {
    const s = chooseTargetScale({ imagesPerSecond: speed, sourceSeconds: (4 * tier(speed)) / speed, images }).scale;
    assert.ok(s <= last, `${speed} images/s`);
    last = s;
  }
  // Scaled epochs: rounded, never below one.
  assert.equal(scaledEpochs(10, false, 0.25), 15);
  assert.equal(scaledEpochs(100, false, 0.5), 15);
  assert.equal(scaledEpochs(100, true, 0.01), 1);
});
