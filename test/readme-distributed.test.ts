/**
 * Runs the README's data-parallel example as written (only its import paths are pointed at
 * the build): the launcher starts two workers, rank 0 alone prints and writes the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

test("the README's data-parallel example trains on two processes and rank 0 alone writes", () => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## Data-parallel training');
  assert.ok(start >= 0, 'README has the data-parallel section');
  const blocks = [...readme.slice(start).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 2, 'the section has the worker and the launcher');
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-readme-ddp-'));
  try {
    const entry = pathToFileURL(resolve('dist', 'src', 'index.js')).href;
    writeFileSync(join(dir, 'train-ddp.mjs'), blocks[0]!.replace("from 'tlcv'", `from '${entry}'`));
    writeFileSync(join(dir, 'launch.mjs'), blocks[1]!.replace("from 'tlcv'", `from '${entry}'`));
    const r = spawnSync(process.execPath, ['launch.mjs'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `example failed:\n${r.stdout}\n${r.stderr}`);
    const epochs = r.stdout.split('\n').filter((l) => /epoch \d: loss [\d.]+ on 200 images/.test(l));
    assert.deepEqual(
      epochs.map((l) => l.slice(0, l.indexOf(':'))),
      ['[rank 0] epoch 1', '[rank 0] epoch 2', '[rank 0] epoch 3'],
      `only rank 0 prints, once per epoch, the loss over all 200 images:\n${r.stdout}`,
    );
    for (const f of ['model.safetensors', 'config.json']) assert.ok(existsSync(join(dir, 'runs', 'ddp', f)), `${f} written`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
