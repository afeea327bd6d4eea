// The CPU tensor-memory cache: large freed blocks are reused (no new system allocation per
// step), results do not change, its byte limit holds, release empties it, and
// TLCV_CPU_CACHE_MB=0 leaves libtorch's own allocator in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { F, cpuMemoryCache, manualSeed, randn, releaseCpuMemoryCache, tidy } from '../src/tensor/index.js';

test('a repeated step reuses its blocks, and computes what it computed before', () => {
  manualSeed(3);
  const [x, w] = [randn([8, 16, 64, 64]).keep(), randn([32, 16, 3, 3]).keep()];
  // A conv goes through oneDNN, which frees through the raw-pointer interface.
  const step = (): number[] => tidy(() => F.relu(F.conv2d(x, w, null, { padding: 1 })).sum([1, 2, 3]).toFlatArray());
  releaseCpuMemoryCache();
  const first = step();
  const before = cpuMemoryCache();
  assert.ok(before.enabled);
  assert.ok(before.cachedBytes >= 8 * 32 * 64 * 64 * 4, 'the conv output went to the cache when freed');
  for (let i = 0; i < 5; i += 1) assert.deepEqual(step(), first);
  const after = cpuMemoryCache();
  assert.equal(after.misses, before.misses, 'no step after the first asked the system for large blocks');
  assert.ok(after.hits > before.hits);
  releaseCpuMemoryCache();
  assert.equal(cpuMemoryCache().cachedBytes, 0);
  x.dispose();
  w.dispose();
});

function inChild(env: Record<string, string>, body: string): unknown {
  const script = `import('./dist/src/tensor/index.js').then((t) => { ${body} });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the limit holds: blocks freed longest ago go back to the system', () => {
  const s = inChild(
    { TLCV_CPU_CACHE_MB: '4' },
    `for (let i = 1; i <= 40; i += 1) t.tidy(() => { t.zeros([i * 32 * 1024]); });
     console.log(JSON.stringify(t.cpuMemoryCache()));`,
  ) as { enabled: boolean; limitBytes: number; cachedBytes: number };
  assert.equal(s.enabled, true);
  assert.equal(s.limitBytes, 4 * 2 ** 20);
  assert.ok(s.cachedBytes > 0 && s.cachedBytes <= s.limitBytes, `cached ${s.cachedBytes}`);
});

test('blocks of ever new sizes do not pile up: the cache holds at most four times the peak in use', () => {
  const after = inChild(
    {},
    `for (let i = 1; i <= 60; i += 1) t.tidy(() => { t.zeros([(256 + 7 * i) * 1024]); });
     console.log(JSON.stringify(t.cpuMemoryCache()));`,
  ) as { cachedBytes: number; peakInUseBytes: number };
  // 60 sizes from 1.0 to 2.7 MiB, one at a time: holding them all would take over 100 MiB.
  assert.ok(after.cachedBytes <= 4 * after.peakInUseBytes, `cached ${after.cachedBytes} within four times the peak in use ${after.peakInUseBytes}`);
  assert.ok(after.peakInUseBytes < 4 * 2 ** 20 && after.cachedBytes < 16 * 2 ** 20, `peak in use ${after.peakInUseBytes}, cached ${after.cachedBytes}`);
  assert.ok(after.cachedBytes > 0);
});

test('TLCV_CPU_CACHE_MB=0 turns the cache off', () => {
  const s = inChild({ TLCV_CPU_CACHE_MB: '0' }, `t.tidy(() => { t.zeros([1 << 20]); }); console.log(JSON.stringify(t.cpuMemoryCache()));`) as { enabled: boolean; cachedBytes: number; misses: number };
  assert.deepEqual([s.enabled, s.cachedBytes, s.misses], [false, 0, 0]);
});
