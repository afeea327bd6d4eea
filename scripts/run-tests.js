// Runs the compiled tests with node's test runner, one file at a time: they share
// libtorch's thread pool and a 2-core machine, so running them concurrently only adds noise.
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const only = process.argv.slice(2);
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}
let files = walk(root).sort();
if (only.length > 0) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('no test files found under dist/test (run npm run build first)');
  process.exit(1);
}
// Execution plans timed during the tests go to a file of this run, not the user's cache.
const planCache = process.env.TLCV_PLAN_CACHE ?? join(mkdtempSync(join(tmpdir(), 'tlcv-test-plans-')), 'plans.json');
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, TLCV_PLAN_CACHE: planCache },
});
process.exit(r.status ?? 1);
