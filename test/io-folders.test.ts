// The run folder's rule and the cache root: a folder holding a run needs --overwrite or --resume,
// a folder of other files is refused, --resume needs a checkpoint (its own, or the head stage's
// of a two-stage fine-tune); clearRunFolder removes only tlcv's files; the cache root is
// TLCV_CACHE (else ~/.cache/tlcv) with data/, weights/ and plans/ under it, and every user of
// the cache (datasets, weights, plans) finds its folder there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { RUN_FILES, cacheDir, cacheRoot, checkRunFolder, clearRunFolder, runPath } from '../src/io/index.js';
import { datasetCacheDir } from '../src/data/named.js';
import { defaultWeightsDir } from '../src/models/index.js';
import { planCachePath } from '../src/execution/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-folders-'));
after(() => rmSync(root, { recursive: true, force: true }));

const refused = (dir: string, o: Parameters<typeof checkRunFolder>[1], message: RegExp): void =>
  assert.throws(() => checkRunFolder(dir, o), (e: unknown) => e instanceof TlcvError && message.test(e.message));

test('a run folder: new or empty is fine; a run needs --overwrite or --resume; other files never', () => {
  checkRunFolder(join(root, 'new'));
  mkdirSync(join(root, 'empty'));
  checkRunFolder(join(root, 'empty'));

  const run = join(root, 'run');
  mkdirSync(run);
  writeFileSync(runPath(run, 'checkpoint'), 'x');
  writeFileSync(runPath(run, 'metrics'), 'x');
  refused(run, {}, /^--out .*run already holds an unfinished run \(checkpoint\.safetensors, metrics\.jsonl\): pass --overwrite to replace it, --resume to continue it, or choose another folder$/);
  writeFileSync(runPath(run, 'weights'), 'x');
  refused(run, {}, /already holds a trained model/);
  checkRunFolder(run, { overwrite: true });
  checkRunFolder(run, { resume: true });
  writeFileSync(join(run, 'notes.txt'), 'mine');
  refused(run, { overwrite: true }, /^--out .*run already holds other files \(notes\.txt\): choose an empty or new folder$/);
  clearRunFolder(run);
  assert.deepEqual(readdirSync(run), ['notes.txt'], 'only tlcv\'s files are removed');

  refused(join(root, 'new'), { resume: true }, /^--resume: no checkpoint at .*new\/checkpoint\.safetensors$/);
  const staged = join(root, 'staged');
  mkdirSync(join(staged, RUN_FILES.headStage), { recursive: true });
  writeFileSync(runPath(join(staged, RUN_FILES.headStage), 'checkpoint'), 'x');
  checkRunFolder(staged, { resume: true });
});

test('one cache root: TLCV_CACHE, else ~/.cache/tlcv, with data/, weights/ and plans/', () => {
  const saved = { cache: process.env.TLCV_CACHE, plans: process.env.TLCV_PLAN_CACHE };
  try {
    delete process.env.TLCV_PLAN_CACHE;
    delete process.env.TLCV_CACHE;
    assert.equal(cacheRoot(), join(homedir(), '.cache', 'tlcv'));
    process.env.TLCV_CACHE = join(root, 'cache');
    assert.equal(cacheRoot(), join(root, 'cache'));
    assert.equal(cacheDir('data'), join(root, 'cache', 'data'));
    assert.equal(datasetCacheDir('mnist'), join(root, 'cache', 'data', 'mnist'));
    assert.equal(defaultWeightsDir(), join(root, 'cache', 'weights'));
    assert.equal(planCachePath(), join(root, 'cache', 'plans', 'plans.json'));
    process.env.TLCV_PLAN_CACHE = 'off';
    assert.equal(planCachePath(), null);
  } finally {
    for (const [k, v] of [['TLCV_CACHE', saved.cache], ['TLCV_PLAN_CACHE', saved.plans]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
