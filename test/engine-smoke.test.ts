import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, F, liveTensors, randn, manualSeed } from '../src/tensor/index.js';
import { TorchError, TlcvError } from '../src/errors.js';

test('creates, reads back and computes', () => {
  tidy(() => {
    const a = tensor([[1, 2], [3, 4]]);
    assert.deepEqual(a.shape, [2, 2]);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(a.add(1).toArray(), [[2, 3], [4, 5]]);
    assert.equal(a.sum().item(), 10);
  });
});

test('libtorch errors become typed errors, not crashes', () => {
  tidy(() => {
    assert.throws(() => F.conv2d(randn([1, 2, 5, 5]), randn([4, 3, 3, 3])), (e: unknown) => e instanceof TorchError && /channels/.test(e.message));
    const d = tensor([1]);
    d.dispose();
    assert.throws(() => d.add(1), (e: unknown) => e instanceof TlcvError && e.code === 'DISPOSED');
  });
});

test('seeded randomness repeats', () => {
  tidy(() => {
    manualSeed(7);
    const a = randn([5]).toFlatArray();
    manualSeed(7);
    assert.deepEqual(randn([5]).toFlatArray(), a);
  });
});

test('tidy releases every intermediate', () => {
  const before = liveTensors().count;
  for (let i = 0; i < 50; i += 1) tidy(() => F.relu(randn([4, 4])).mul(2).sum().item());
  assert.equal(liveTensors().count, before);
});
