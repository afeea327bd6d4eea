/**
 * Runs the README's library example as written (only its import path is pointed at the
 * build), so the documented 40-line transfer keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

test('the README library example trains, evaluates and saves a model folder', () => {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## The library in 40 lines');
  assert.ok(start >= 0, 'README has the library section');
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(start));
  assert.ok(block, 'README library section has a js code block');
  const code = block[1]!;
  const lines = code.trim().split('\n').length;
  assert.ok(lines <= 40, `the example stays within 40 lines (it has ${lines})`);
  // The model object carries the user through the runs: no hand-made loader, plan or progress sink.
  assert.match(code, /await load\(/);
  assert.doesNotMatch(code, /new DataLoader|planExecution|tunePlan|Progress/);
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-readme-'));
  const entry = pathToFileURL(resolve('dist', 'src', 'index.js')).href;
  writeFileSync(join(dir, 'example.mjs'), code.replace("from 'tlcv'", `from '${entry}'`));
  const r = spawnSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `example failed:\n${r.stderr}`);
  const m = /target accuracy ([\d.]+)% on (\d+) digits/.exec(r.stdout);
  assert.ok(m, `example printed its accuracy: ${r.stdout}`);
  assert.equal(Number(m[2]), 9900);
  // Ten labels per class on a frozen Fashion-MNIST backbone: far above chance (10%).
  assert.ok(Number(m[1]) > 30, `target accuracy ${m[1]}% should be well above chance`);
  for (const f of ['model.safetensors', 'config.json']) assert.ok(existsSync(join(dir, 'runs', 'example', f)), `${f} written`);
});
