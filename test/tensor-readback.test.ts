// Reading tensors back (toString, item, int64/bool/16-bit floats), memory formats, and the
// process-wide modes (autocast, no-grad, inference) restoring their previous state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F, autocast, fromTypedArray, getNumThreads, inferenceMode, manualSeed, noGrad, randn, runtimeInfo, setNumThreads, tensor, tidy, zeros,
} from '../src/tensor/index.js';
import { bfloat16BitsToNumber, float16BitsToNumber } from '../src/tensor/half.js';

test('toString prints the values, the dtype and the shape', () => {
  tidy(() => {
    const s = tensor([[1.5, -2], [3, 4]]).toString();
    for (const v of ['1.5000', '-2.0000', '3.0000', '4.0000']) assert.ok(s.includes(v), s);
    assert.match(s, /CPUFloatType\{2,2\}/);
    assert.match(tensor([1, 2], { dtype: 'int64' }).toString(), /CPULongType\{2\}/);
    assert.match(`${tensor(3)}`, /^3\n/);
  });
});

test('item reads floats, int64 beyond 2^32, and bools', () => {
  tidy(() => {
    assert.equal(tensor(3.5).item(), 3.5);
    assert.equal(tensor([[0.1]], { dtype: 'float64' }).item(), 0.1);
    assert.equal(tensor([2 ** 40 + 1], { dtype: 'int64' }).item(), 2 ** 40 + 1);
    assert.equal(tensor(true).item(), 1);
    assert.equal(tensor([false]).item(), 0);
    assert.equal(tensor([7], { dtype: 'uint8' }).item(), 7);
  });
});

test('int64 reads back exactly as BigInt, bools as booleans', () => {
  tidy(() => {
    const big = BigInt64Array.from([2n ** 62n + 1n, -(2n ** 53n) - 3n, 0n]);
    const t = fromTypedArray(big, [3]);
    assert.equal(t.dtype, 'int64');
    assert.deepEqual(Array.from(t.toTypedArray() as BigInt64Array), Array.from(big));
    assert.deepEqual(t.add(1).toTypedArray(), BigInt64Array.from([2n ** 62n + 2n, -(2n ** 53n) - 2n, 1n]));
    const b = tensor([[true, false], [false, true]]);
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toArray(), [[true, false], [false, true]]);
    assert.deepEqual(Array.from(b.toTypedArray() as Uint8Array), [1, 0, 0, 1]);
    assert.deepEqual(randn([3]).gt(100).toArray(), [false, false, false]);
  });
});

test('16-bit float bit patterns decode as IEEE binary16 and bfloat16', () => {
  const f16: [number, number][] = [[0x3c00, 1], [0xc000, -2], [0x7bff, 65504], [0x0001, 2 ** -24], [0x0400, 2 ** -14], [0x7c00, Infinity], [0xfc00, -Infinity], [0x8000, -0]];
  for (const [bits, v] of f16) assert.ok(Object.is(float16BitsToNumber(bits), v), `0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(float16BitsToNumber(0x7e00)));
  const bf16: [number, number][] = [[0x3f80, 1], [0xc000, -2], [0x4049, 3.140625], [0x7f80, Infinity], [0x0001, 2 ** -133]];
  for (const [bits, v] of bf16) assert.ok(Object.is(bfloat16BitsToNumber(bits), v), `0x${bits.toString(16)}`);
});

test('float16 and bfloat16 tensors convert both ways', () => {
  tidy(() => {
    const values = [1.5, -2.25, 65504, 70000, 1e-3, 1e-8, 0];
    const h = tensor(values, { dtype: 'float16' });
    assert.equal(h.dtype, 'float16');
    assert.ok(h.toTypedArray() instanceof Uint16Array);
    const decoded = h.toFlatArray();
    assert.deepEqual(decoded, h.float().toFlatArray(), 'decoding in JS agrees with libtorch widening');
    assert.deepEqual(decoded.slice(0, 3), [1.5, -2.25, 65504]);
    assert.equal(decoded[3], Infinity, '70000 overflows float16');
    assert.ok(Math.abs(decoded[4]! - 1e-3) < 1e-6);
    assert.equal(decoded[5], 0, '1e-8 underflows float16');
    const b = tensor([1.5, 3.14159, 1e30], { dtype: 'bfloat16' });
    assert.deepEqual(b.toFlatArray(), b.to('float32').toFlatArray());
    assert.equal(b.toFlatArray()[1], 3.140625);
    assert.ok(Math.abs(b.toFlatArray()[2]! / 1e30 - 1) < 1 / 128);
    const raw = fromTypedArray(Uint16Array.from([0x3c00, 0x4000]), [2], { dtype: 'float16' });
    assert.deepEqual(raw.toFlatArray(), [1, 2]);
    assert.deepEqual(raw.to('float64').toFlatArray(), [1, 2]);
  });
});

test("to({ memoryFormat: 'channelsLast' }) keeps values and makes channels the innermost dim", () => {
  tidy(() => {
    const x = randn([2, 3, 4, 5]);
    assert.deepEqual(x.strides(), [60, 20, 5, 1]);
    const cl = x.to({ memoryFormat: 'channelsLast' });
    assert.deepEqual(cl.shape, [2, 3, 4, 5]);
    assert.deepEqual(cl.strides(), [60, 1, 15, 3]);
    assert.deepEqual(cl.toFlatArray(), x.toFlatArray(), 'values read back in logical order');
    assert.deepEqual(x.contiguous('channelsLast').strides(), [60, 1, 15, 3]);
    assert.deepEqual(cl.contiguous().strides(), [60, 20, 5, 1]);
    const w = randn([6, 3, 3, 3]);
    const y = F.conv2d(cl, w);
    assert.deepEqual(y.strides(), [36, 1, 18, 6], 'conv keeps channels-last');
    const ref = F.conv2d(x, w).toFlatArray();
    y.toFlatArray().forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= 1e-5 + 1e-5 * Math.abs(ref[i]!), `element ${i}`));
  });
});

test('autocast runs conv and linear in bfloat16, keeps float32 elsewhere, and restores its state', () => {
  tidy(() => {
    manualSeed(5);
    const x = randn([2, 3, 8, 8]);
    const w = randn([4, 3, 3, 3]).requiresGrad_();
    const lw = randn([5, 4 * 6 * 6]).requiresGrad_();
    const [convOut, linOut, sum] = autocast(() => {
      const c = F.conv2d(x, w);
      const l = F.linear(c.flatten(1), lw);
      return [c, l, l.float().sum()];
    });
    assert.equal(convOut.dtype, 'bfloat16');
    assert.equal(linOut.dtype, 'bfloat16');
    const ref = F.linear(F.conv2d(x, w).flatten(1), lw).toFlatArray();
    // bf16 keeps 8 significant bits; errors scale with the output's magnitude, not each element's.
    const scale = Math.max(...ref.map(Math.abs));
    const worst = Math.max(...linOut.toFlatArray().map((v, i) => Math.abs(v - ref[i]!)));
    assert.ok(worst < 0.02 * scale, `bf16 result within 2% of the fp32 scale (${worst} vs ${scale})`);
    sum.backward();
    assert.equal(w.grad!.dtype, 'float32', 'gradients of float32 parameters stay float32');
    assert.equal(F.conv2d(x, w).dtype, 'float32', 'autocast is off again after the region');
    assert.throws(() => autocast(() => {
      throw new Error('inside');
    }), /inside/);
    assert.equal(F.linear(randn([2, 3]), randn([4, 3])).dtype, 'float32', 'restored after fn threw');
    autocast(() => {
      assert.equal(autocast(() => F.linear(randn([2, 3]), randn([4, 3])).dtype, { enabled: false }), 'float32');
      assert.equal(F.linear(randn([2, 3]), randn([4, 3])).dtype, 'bfloat16', 'an inner disabled region restores the outer one');
    });
  });
});

test('noGrad and inferenceMode stop recording and restore grad mode even when fn throws', () => {
  tidy(() => {
    const w = randn([3]).requiresGrad_();
    assert.equal(noGrad(() => w.mul(2)).requiresGrad, false);
    assert.equal(inferenceMode(() => w.mul(2)).requiresGrad, false);
    assert.throws(() => noGrad(() => {
      throw new Error('x');
    }));
    assert.throws(() => inferenceMode(() => {
      throw new Error('x');
    }));
    assert.equal(runtimeInfo().gradEnabled, true);
    assert.equal(w.mul(2).requiresGrad, true);
    const d = w.mul(2).detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(zeros([1]).requiresGrad, false);
  });
});

test('setNumThreads changes libtorch threads', (t) => {
  const before = getNumThreads();
  t.after(() => setNumThreads(before));
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(2);
  assert.equal(getNumThreads(), 2);
});
