// `tlcv bench`'s data section on a tiny config against the real torchvision peer: photo decoding,
// resnet18 trained end to end (tlcv streaming, tlcv on pre-decoded images, torchvision's loop) and
// streaming memory. Figures, ratios and targets must follow from what was measured; no timing is
// asserted on this shared machine.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTargets, median, renderMarkdown, runBench, type BenchConfig, type BenchReport } from '../src/bench/index.js';

// The bench generates its phone-size JPEGs under the cache root: a fresh one, removed after.
const cache = mkdtempSync(join(tmpdir(), 'tlcv-bench-data-'));
const previous = process.env.TLCV_CACHE;
process.env.TLCV_CACHE = cache;
after(() => {
  if (previous === undefined) delete process.env.TLCV_CACHE;
  else process.env.TLCV_CACHE = previous;
  rmSync(cache, { recursive: true, force: true });
});

const tiny: BenchConfig = {
  threads: 1,
  reps: 1,
  seed: 0,
  throughput: [],
  gemm: null,
  transfer: null,
  precision: null,
  memory: null,
  tfjs: null,
  data: {
    distinct: 2,
    throughputPhotos: 8,
    throughputImages: 2,
    batch: 2,
    size: 64,
    peerWorkers: 1,
    memory: [
      { photos: 4, cacheImages: 'off' },
      { photos: 8, cacheImages: 'auto' },
    ],
    memoryEpochs: 1,
    train: { images: 2, batch: 2 },
  },
};

test('the data section measures decoding, end-to-end training and memory, and the report follows from them', async () => {
  const r: BenchReport = await runBench({ config: tiny, command: 'test' });
  assert.deepEqual(r.errors, {});
  const d = r.data!;
  assert.ok(d.decode !== null && d.train !== null);
  const t = d.train;
  for (const f of [t.stream, t.memory, t.peer]) {
    assert.equal(f.samples.length, tiny.reps);
    assert.equal(f.median, median(f.samples));
    f.samples.forEach((s) => assert.ok(Number.isFinite(s) && s > 0, `images/s ${s}`));
  }
  assert.equal(t.vsPeer, t.stream.median / t.peer.median);
  assert.equal(t.vsMemory, t.stream.median / t.memory.median);
  assert.match(t.tlcvPlan, /on cpu/);
  assert.deepEqual(d.memory.map((m) => [m.photos, m.cacheImages]), [[4, 'off'], [8, 'auto']]);
  assert.ok(d.memory[1]!.cacheBytes > 0 && d.memory[1]!.cacheBytes <= d.memory[1]!.cacheLimit!, 'the auto cache filled, within its limit');

  assert.deepEqual(r.targets, checkTargets(r));
  const e2e = r.targets.find((x) => x.name.includes('training on photos end to end'))!;
  assert.equal(e2e.met, t.vsPeer >= 2);
  assert.equal(r.targets.find((x) => x.name.includes('streaming / pre-decoded'))!.met, t.vsMemory >= 0.9);
  const md = renderMarkdown(r);
  assert.match(md, /\| tlcv streaming \| tlcv pre-decoded \| torchvision ImageFolder \+ DataLoader\(num_workers=1\) \|/);
  assert.match(md, /\| [\d.,]+ \| [\d.,]+ \| [\d.,]+ \| [\d.]+x \| [\d.]+x \|/);
});
