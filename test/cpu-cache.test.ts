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

test("releaseFreeMemory gives back the cache's blocks and the free pages in glibc's heaps", () => {
  const s = inChild(
    {},
    `const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
     // 48 KiB blocks (below the cache's 64 KiB) from malloc's heap; every other one freed leaves
     // holes that glibc keeps: 96 MiB free in the middle of its heap, where no trimming of its top reaches.
     const xs = Array.from({ length: 4000 }, () => t.zeros([12 * 1024]));
     xs.forEach((x, i) => i % 2 === 1 && x.dispose());
     t.tidy(() => { t.zeros([16 << 20]); });
     const before = { rss: rss(), cached: t.cpuMemoryCache().cachedBytes, malloc: t.systemMallocStats() };
     t.releaseFreeMemory();
     console.log(JSON.stringify({ before, after: { rss: rss(), cached: t.cpuMemoryCache().cachedBytes } }));`,
  ) as { before: { rss: number; cached: number; malloc: { available: boolean; freeBytes: number } }; after: { rss: number; cached: number } };
  assert.equal(s.before.malloc.available, true, 'glibc');
  assert.ok(s.before.malloc.freeBytes >= 90 * 2 ** 20, `malloc holds the holes free: ${s.before.malloc.freeBytes}`);
  assert.ok(s.before.cached >= 64 * 2 ** 20, `the 64 MiB block went to the cache: ${s.before.cached}`);
  assert.equal(s.after.cached, 0);
  const released = s.before.rss - s.after.rss;
  assert.ok(released >= 140 * 2 ** 20, `RSS ${s.before.rss} -> ${s.after.rss}: the cache's 64 MiB and most of the 96 MiB of holes went back`);
});
