// Native memory is invisible to the GC, so lifetimes are explicit: these tests check that
// scopes free everything they should, and nothing they should not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  F, getNumThreads, keep, liveTensors, manualSeed, moveToOuter, noGrad, randint, randn, scopeDepth, setNumThreads, tensor, tidy, zeros,
  type Tensor,
} from '../src/tensor/index.js';
import { TlcvError } from '../src/errors.js';

/** Parameters of a small conv net, created outside any scope and owned by the test. */
function makeParams(): Record<string, Tensor> {
  manualSeed(3);
  const p = {
    convW: randn([8, 1, 3, 3]).mul(0.3),
    convB: zeros([8]),
    bnW: zeros([8]).add(1),
    bnB: zeros([8]),
    fcW: randn([10, 8 * 8 * 8]).mul(0.02),
    fcB: zeros([10]),
  };
  for (const t of Object.values(p)) t.requiresGrad_(true);
  return p;
}

function trainStep(p: Record<string, Tensor>, buffers: { mean: Tensor; var: Tensor }, lr: number): number {
  return tidy(() => {
    // Brightness encodes the class, so the net has something to learn and the loss must fall.
    const y = randint(0, 10, [32]);
    const x = randn([32, 1, 16, 16]).add(y.float().view([32, 1, 1, 1]).mul(0.3));
    let h = F.conv2d(x, p.convW!, p.convB!, { padding: 1 });
    h = F.batchNorm(h, { weight: p.bnW!, bias: p.bnB!, runningMean: buffers.mean, runningVar: buffers.var, training: true });
    h = F.maxPool2d(F.relu(h), 2);
    h = F.dropout(h, 0.1, true).flatten(1);
    const loss = F.crossEntropy(F.linear(h, p.fcW!, p.fcB!), y, { labelSmoothing: 0.1 });
    loss.backward();
    noGrad(() => {
      for (const t of Object.values(p)) {
        t.sub_(t.grad!, lr);
        t.grad = null;
      }
    });
    return loss.item();
  });
}

test('1,000 train-like steps leave the live-tensor count where it was, and RSS flat', (t) => {
  // One thread: these ops are tiny, and on a busy shared machine libtorch's spinning worker
  // threads made this test 10x slower, which measures nothing about memory.
  const threads = getNumThreads();
  setNumThreads(1);
  t.after(() => setNumThreads(threads));
  const p = makeParams();
  const buffers = { mean: zeros([8]), var: zeros([8]).add(1) };
  const start = liveTensors();
  let first = 0;
  let last = 0;
  for (let i = 0; i < 100; i += 1) first += trainStep(p, buffers, 0.05) / 100;
  // RSS is taken after a warm-up: libtorch's allocator, glibc's arenas (one per thread) and
  // V8's heap all grow to a steady size first.
  const rssWarm = process.memoryUsage().rss;
  for (let i = 100; i < 1000; i += 1) {
    const l = trainStep(p, buffers, 0.05);
    if (i >= 900) last += l / 100;
  }
  const rssEnd = process.memoryUsage().rss;
  assert.equal(liveTensors().count, start.count, 'live tensors after 1,000 steps');
  assert.equal(liveTensors().bytes, start.bytes, 'live bytes after 1,000 steps');
  assert.ok(liveTensors().created > start.created + 1000 * 10, 'the steps did make tensors');
  // One leaked activation per step ([32, 8, 16, 16] float32, 256 KiB) over 900 steps would add
  // ~230 MB; the 30 MB bound leaves room for allocator and V8 noise, not for such a leak.
  const growthMb = (rssEnd - rssWarm) / 2 ** 20;
  assert.ok(growthMb < 30, `RSS grew by ${growthMb.toFixed(1)} MB over 900 steps`);
  assert.ok(last < 0.8 * first, `the loss went down (${first.toFixed(3)} -> ${last.toFixed(3)}), so the steps really trained`);
  for (const t of [...Object.values(p), buffers.mean, buffers.var]) t.dispose();
  assert.equal(liveTensors().count, start.count - 8);
});

test('nested scopes: keep and moveToOuter decide what survives', () => {
  const before = liveTensors().count;
  let kept: Tensor | undefined;
  let moved: Tensor | undefined;
  let innerTemp: Tensor | undefined;
  const outerResult = tidy(() => {
    const fromInner = tidy(() => {
      innerTemp = zeros([2]);
      kept = keep(zeros([3]));
      moved = moveToOuter(zeros([4]));
      assert.equal(scopeDepth(), 2);
      return { a: zeros([5]), list: [zeros([6])], map: new Map([['m', zeros([7])]]) };
    });
    assert.ok(innerTemp!.isDisposed, 'a tensor the inner scope made and did not return is gone');
    assert.ok(!moved!.isDisposed && !kept!.isDisposed);
    assert.ok(!fromInner.a.isDisposed && !fromInner.list[0]!.isDisposed && !fromInner.map.get('m')!.isDisposed);
    return fromInner.a;
  });
  assert.equal(scopeDepth(), 0);
  assert.ok(moved!.isDisposed, 'moveToOuter lets a tensor out of one scope only');
  assert.ok(!kept!.isDisposed, 'keep outlives every scope');
  assert.ok(!outerResult.isDisposed, 'what the outermost scope returns survives');
  assert.equal(liveTensors().count, before + 2);
  kept!.dispose();
  outerResult.dispose();
  assert.equal(liveTensors().count, before);
});

test('a tensor returned through nested scopes lands in the enclosing scope', () => {
  const before = liveTensors().count;
  let escaped: Tensor | undefined;
  tidy(() => {
    escaped = tidy(() => tidy(() => tensor([1, 2]).mul(2)));
    assert.deepEqual(escaped.toFlatArray(), [2, 4]);
  });
  assert.ok(escaped!.isDisposed, 'the outer scope disposed what the inner one handed it');
  assert.equal(liveTensors().count, before);
});

test('a throwing function disposes what it made, and the scope stack unwinds', () => {
  const before = liveTensors().count;
  assert.throws(() =>
    tidy(() => {
      zeros([10]);
      tidy(() => {
        zeros([10]);
        throw new Error('boom');
      });
    }),
  /boom/);
  assert.equal(scopeDepth(), 0);
  assert.equal(liveTensors().count, before);
});

test('tidy rejects a returned Promise and disposes what it made', async () => {
  const before = liveTensors().count;
  let made: Tensor | undefined;
  assert.throws(
    () =>
      tidy(() => {
        made = zeros([3]);
        return Promise.resolve(made);
      }),
    (e: unknown) => e instanceof TlcvError && e.code === 'ARGUMENT' && /async/.test(e.message),
  );
  assert.ok(made!.isDisposed);
  assert.throws(() => tidy(async () => zeros([3])), TlcvError);
  assert.equal(scopeDepth(), 0);
  assert.equal(liveTensors().count, before);
});

test('`using` disposes a tensor at the end of its block', () => {
  const before = liveTensors().count;
  let seen: Tensor | undefined;
  {
    using t = zeros([4]);
    seen = t;
    assert.equal(liveTensors().count, before + 1);
  }
  assert.ok(seen.isDisposed);
  assert.equal(liveTensors().count, before);
});

test('dispose is idempotent and live bytes track tensor sizes', () => {
  const before = liveTensors();
  const t = zeros([1000], { dtype: 'float64' });
  assert.equal(liveTensors().bytes, before.bytes + 8000);
  t.dispose();
  t.dispose();
  assert.equal(liveTensors().bytes, before.bytes);
  assert.equal(liveTensors().count, before.count);
});

/**
 * Runs full GCs until the live count settles. FinalizationRegistry callbacks run as tasks after
 * a GC, and tensors made outside any scope join the registry at the end of the current job,
 * so a few rounds are needed before a steady count means anything.
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let last = -1;
  for (let i = 0; i < 20; i += 1) {
    gc();
    await new Promise((r) => setTimeout(r, 1));
    const now = liveTensors().count;
    if (i >= 3 && now === last) break;
    last = now;
  }
}

test('native memory is reported to V8, so dropped tensors get collected under memory pressure', async () => {
  // V8 cannot see native memory unless told. Sixty dropped 4 MiB tensors make almost no JS
  // garbage, so only the reported external memory can make V8 collect them along the way.
  await collectGarbage();
  const before = liveTensors().count;
  let maxLive = 0;
  for (let i = 0; i < 60; i += 1) {
    (() => zeros([2 ** 20]))();
    await new Promise((r) => setImmediate(r));
    maxLive = Math.max(maxLive, liveTensors().count - before);
  }
  await collectGarbage();
  assert.ok(maxLive < 40, `at most ${maxLive} of 60 dropped tensors were alive at once`);
  assert.equal(liveTensors().count, before);
});

test('the GC finalizer is a safety net for handles that were dropped without dispose', async () => {
  await collectGarbage();
  const before = liveTensors().count;
  (() => {
    for (let i = 0; i < 20; i += 1) zeros([16]);
  })();
  assert.equal(liveTensors().count, before + 20);
  await collectGarbage();
  assert.equal(liveTensors().count, before);
});

test('tensors that leave every scope (returned, kept, moved out) fall under the safety net', async () => {
  await collectGarbage();
  const before = liveTensors().count;
  (() => {
    tidy(() => zeros([4]));
    tidy(() => void zeros([4]).keep());
    tidy(() => tidy(() => [zeros([2])]));
    tidy(() => void moveToOuter(zeros([3])));
  })();
  assert.equal(liveTensors().count, before + 4);
  await collectGarbage();
  assert.equal(liveTensors().count, before);
});

test('a disposed tensor is never released again by the safety net, even when its handle comes back', async () => {
  await collectGarbage();
  let h = -1;
  (() => {
    const k = zeros([5]).keep(); // registered with the safety net
    h = k.handle;
    k.dispose();
  })();
  // A slot's generation wraps after 512 reuses, so the same handle number returns; only the
  // unregistering in dispose() then keeps the GC of the first tensor from freeing this one.
  let next: Tensor | null = null;
  for (let i = 0; i < 5000 && next === null; i += 1) {
    const t = zeros([6]);
    if (t.handle === h) next = t.keep();
    else t.dispose();
  }
  assert.ok(next !== null, 'the handle number came back');
  await collectGarbage();
  assert.deepEqual(next.shape, [6]);
  assert.deepEqual(next.toFlatArray(), [0, 0, 0, 0, 0, 0]);
  next.dispose();
});
