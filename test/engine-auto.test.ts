// --engine auto: the choice between libtorch and onnxruntime follows the timing rule (the faster
// beyond a 5% margin, libtorch on a near tie), is cached per model and batch size with the
// figures and session options that made it, and a cached choice is taken without timing. Every
// check runs on an injected clock: nothing here depends on how fast this machine is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceEngine, batchBucket, chooseEngine, engineCacheKey, engineSessionOptions, loadOnnxruntime, type EngineChoice, type EngineName } from '../src/deploy/index.js';
import { planCachePath, readPlanCache, trialBatchSize, writePlanCache, type ExecutionPlan } from '../src/execution/index.js';
import { getNumThreads } from '../src/tensor/index.js';
import type { ClassifierModel } from '../src/models/index.js';
import { spreadZooModel } from './helpers/engine-fixture.js';

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };
let root: string;
let saved: string | undefined;
let model: ClassifierModel;
let images: Uint8Array[];
let preprocess: ReturnType<typeof spreadZooModel>['preprocess'];

before(() => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-engine-auto-'));
  saved = process.env.TLCV_PLAN_CACHE;
  process.env.TLCV_PLAN_CACHE = join(root, 'plans.json');
  ({ model, images, preprocess } = spreadZooModel('seed-cnn', { images: 6 }));
});

after(() => {
  model.dispose();
  if (saved === undefined) delete process.env.TLCV_PLAN_CACHE;
  else process.env.TLCV_PLAN_CACHE = saved;
  rmSync(root, { recursive: true, force: true });
});

const session = (): EngineChoice['onnxruntime'] => ({ ...engineSessionOptions(getNumThreads()), version: loadOnnxruntime().version });

/** Fake steps on a fake clock: each engine's step takes the given milliseconds. */
function fakeTiming(ms: Record<EngineName, number>): { clock: () => number; steps: () => Record<EngineName, () => void>; runs: Record<EngineName, number> } {
  let now = 0;
  const runs = { libtorch: 0, onnxruntime: 0 };
  const step = (e: EngineName) => (): void => {
    runs[e] += 1;
    now += ms[e];
  };
  return { clock: () => now, steps: () => ({ libtorch: step('libtorch'), onnxruntime: step('onnxruntime') }), runs };
}

const throwingClock = (): number => assert.fail('a cached choice is taken without timing');

test('batch sizes share a choice by bucket: 1 alone, powers of two, every batch from the largest trial up', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 7, 8, 64].map((n) => batchBucket(n, 8)), ['1', '2-2', '3-4', '3-4', '5-7', '5-7', '8+', '8+']);
  assert.deepEqual([16, 17, 82, 83, 500].map((n) => batchBucket(n, 83)), ['9-16', '17-32', '65-82', '83+', '83+']);
  const key = (batch: number): string => engineCacheKey({ model, batch, trialMax: 83, libtorchPlan: FP32, session: session() });
  assert.equal(key(3), key(4));
  assert.notEqual(key(4), key(5));
  assert.notEqual(key(1), key(2));
  assert.notEqual(key(4), engineCacheKey({ model, batch: 4, trialMax: 83, libtorchPlan: { ...FP32, bf16: true }, session: session() }), 'the libtorch plan is part of the key');
  assert.match(key(4), new RegExp(`threads ${getNumThreads()}\\|`));
});

test('the faster engine wins beyond a 5% margin, libtorch on a near tie; the choice is cached with its figures and options', () => {
  const cases: [Record<EngineName, number>, EngineName, number][] = [
    // Batch sizes of buckets the next test leaves alone (it times 1, 2 and 5-8).
    [{ libtorch: 10, onnxruntime: 4 }, 'onnxruntime', 9],
    [{ libtorch: 10, onnxruntime: 9.6 }, 'libtorch', 17],
    [{ libtorch: 10, onnxruntime: 9.4 }, 'onnxruntime', 33],
    [{ libtorch: 5, onnxruntime: 8 }, 'libtorch', 65],
  ];
  for (const [ms, want, batch] of cases) {
    const t = fakeTiming(ms);
    const logs: string[] = [];
    const choice = chooseEngine({ model, batch, images: batch, trialMax: 83, libtorchPlan: FP32, session: session(), steps: t.steps, clock: t.clock, log: (l) => logs.push(l) });
    assert.equal(choice.engine, want, `${JSON.stringify(ms)}`);
    // Both engines ran: two warm-ups and at least three timed runs in each of three rounds.
    assert.ok(t.runs.libtorch >= 3 * 3 + 2 + 2 && t.runs.onnxruntime >= 3 * 3 + 2 + 2, JSON.stringify(t.runs));
    for (const e of ['libtorch', 'onnxruntime'] as const) assert.ok(Math.abs(choice.imagesPerSecond[e] - (batch * 1000) / ms[e]) < 1e-6, `${e}: ${choice.imagesPerSecond[e]}`);
    assert.equal(choice.images, batch);
    assert.equal(choice.libtorch, 'fp32 on cpu');
    assert.deepEqual(choice.onnxruntime, session());
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, new RegExp(`^timed inference engines on ${batch} images \\(images/s\\): libtorch fp32 on cpu [\\d.]+, onnxruntime [\\d.]+ \\(\\d+ threads, graph all, arena, no spinning\\) [\\d.]+; using ${want}$`));
    const stored = readPlanCache(planCachePath())[engineCacheKey({ model, batch, trialMax: 83, libtorchPlan: FP32, session: session() })];
    assert.deepEqual(stored, choice, 'the cache keeps the choice, its figures and the session options');
    // Asked again: the cached choice, with neither step run nor the clock read.
    const again = chooseEngine({ model, batch, images: batch, trialMax: 83, libtorchPlan: FP32, session: session(), steps: () => assert.fail('no steps for a cached choice'), clock: throwingClock });
    assert.deepEqual(again, choice);
  }
});

test('the engine object takes a cached choice without timing, times an unknown batch size once, and remembers it', () => {
  const trialMax = trialBatchSize(28, 28);
  const seed = (batch: number, engine: EngineName): void => {
    const key = engineCacheKey({ model, batch, trialMax, libtorchPlan: FP32, session: session() });
    writePlanCache(planCachePath(), key, { engine, imagesPerSecond: { libtorch: 1, onnxruntime: 1 }, images: batch, libtorch: 'fp32 on cpu', onnxruntime: session(), timedAt: 'seeded' } satisfies EngineChoice);
  };
  seed(6, 'onnxruntime');
  seed(1, 'libtorch');
  const cached = new InferenceEngine({ engine: 'auto', clock: throwingClock });
  try {
    const a = cached.classify(model, images, preprocess);
    assert.equal(cached.lastEngine, 'onnxruntime');
    const b = cached.classify(model, images.slice(0, 1), preprocess);
    assert.equal(cached.lastEngine, 'libtorch');
    assert.ok(Math.abs(a[0]![0]! - b[0]![0]!) < 1e-4, 'either engine: the same answer');
  } finally {
    cached.dispose();
  }

  // Batch 2 is in no cache: timed once (on the real steps, the clock only counted), then cached.
  let reads = 0;
  const logs: string[] = [];
  const timing = new InferenceEngine({ engine: 'auto', clock: () => ((reads += 1), performance.now()), log: (l) => logs.push(l) });
  try {
    timing.classify(model, images.slice(0, 2), preprocess);
    assert.ok(reads > 0, 'timed');
    assert.equal(logs.length, 1);
    const chosen = timing.lastEngine;
    const stored = readPlanCache(planCachePath())[engineCacheKey({ model, batch: 2, trialMax, libtorchPlan: FP32, session: session() })] as EngineChoice;
    assert.equal(stored.engine, chosen);
    assert.equal(stored.images, 2);
    const before = reads;
    timing.classify(model, images.slice(2, 4), preprocess);
    assert.equal(reads, before, 'the same engine object times a batch size once');
    assert.equal(timing.lastEngine, chosen);
  } finally {
    timing.dispose();
  }
  const fresh = new InferenceEngine({ engine: 'auto', clock: throwingClock });
  try {
    fresh.classify(model, images.slice(0, 2), preprocess);
    assert.equal(fresh.lastEngine, (readPlanCache(planCachePath())[engineCacheKey({ model, batch: 2, trialMax, libtorchPlan: FP32, session: session() })] as EngineChoice).engine);
  } finally {
    fresh.dispose();
  }
});

test('a batch size between two sizes chosen alike takes their engine untimed; between two that differ it is timed', () => {
  const trialMax = trialBatchSize(28, 28);
  const seed = (batch: number, engine: EngineName): void => {
    const key = engineCacheKey({ model, batch, trialMax, libtorchPlan: FP32, session: session() });
    writePlanCache(planCachePath(), key, { engine, imagesPerSecond: { libtorch: 1, onnxruntime: 1 }, images: batch, libtorch: 'fp32 on cpu', onnxruntime: session(), timedAt: 'seeded' } satisfies EngineChoice);
  };
  seed(1, 'onnxruntime');
  seed(8, 'onnxruntime');
  const e = new InferenceEngine({ engine: 'auto', clock: throwingClock });
  try {
    e.classify(model, images.slice(0, 1), preprocess);
    e.classify(model, Array.from({ length: 8 }, (_, i) => images[i % images.length]!), preprocess);
    // 3 lies between 1 and 8, both onnxruntime: taken without timing (the clock would throw).
    e.classify(model, images.slice(0, 3), preprocess);
    assert.equal(e.lastEngine, 'onnxruntime');
  } finally {
    e.dispose();
  }
  seed(8, 'libtorch');
  const differ = new InferenceEngine({ engine: 'auto', clock: throwingClock });
  try {
    differ.classify(model, images.slice(0, 1), preprocess);
    differ.classify(model, Array.from({ length: 8 }, (_, i) => images[i % images.length]!), preprocess);
    assert.throws(() => differ.classify(model, images.slice(0, 3), preprocess), /taken without timing/, 'the ends differ: batch 3 is timed');
  } finally {
    differ.dispose();
  }
});

test('a pinned engine is never timed', () => {
  for (const engine of ['libtorch', 'onnxruntime'] as const) {
    const e = new InferenceEngine({ engine, clock: throwingClock });
    try {
      e.classify(model, images.slice(0, 5), preprocess);
      assert.equal(e.lastEngine, engine);
    } finally {
      e.dispose();
    }
  }
  assert.throws(() => new InferenceEngine({ engine: 'tensorrt' as never }), /--engine: expected one of auto\|libtorch\|onnxruntime, got "tensorrt"/);
});

test('the plan cache file holds engine choices beside plans, as JSON', () => {
  const text = readFileSync(planCachePath()!, 'utf8');
  const entries = Object.entries(JSON.parse(text) as Record<string, { engine?: string }>).filter(([k]) => k.startsWith('engine|'));
  assert.ok(entries.length >= 4);
  assert.ok(entries.every(([, v]) => v.engine === 'libtorch' || v.engine === 'onnxruntime'));
});
