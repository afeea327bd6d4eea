import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StochasticDepth } from '../src/nn/index.js';
import { liveTensors, manualSeed, ones, rand, tidy } from '../src/tensor/index.js';

test('StochasticDepth: the identity in eval mode and at p = 0, drawing nothing from the generator', () => {
  const before = liveTensors().count;
  tidy(() => {
    const x = ones([4, 3, 2, 2]);
    const sd = new StochasticDepth(0.5, 'row');
    sd.eval();
    manualSeed(1);
    assert.equal(sd.forward(x), x);
    const next = rand([1]).item();
    manualSeed(1);
    assert.equal(rand([1]).item(), next, 'eval mode drew from the generator');
    const off = new StochasticDepth(0);
    off.train();
    assert.equal(off.forward(x), x);
  });
  assert.equal(liveTensors().count, before);
});

test('StochasticDepth row mode drops whole samples and scales the survivors by 1/(1-p); batch mode drops all or none', () => {
  const before = liveTensors().count;
  tidy(() => {
    manualSeed(3);
    const sd = new StochasticDepth(0.25, 'row');
    sd.train();
    const y = sd.forward(ones([400, 2, 3]));
    const perSample = y.reshape([400, 6]).toArray() as number[][];
    let dropped = 0;
    for (const row of perSample) {
      const v = row[0]!;
      assert.ok(row.every((e) => e === v), 'a sample is dropped or kept whole');
      if (v === 0) dropped += 1;
      else assert.ok(Math.abs(v - 1 / 0.75) < 1e-6);
    }
    // 100 expected of 400; a binomial's 4 sigma is about 35.
    assert.ok(dropped > 65 && dropped < 135, `dropped ${dropped} of 400`);
    const batch = new StochasticDepth(0.5, 'batch');
    batch.train();
    const flat = batch.forward(ones([8, 4])).toFlatArray();
    assert.ok(flat.every((e) => e === flat[0]) && (flat[0] === 0 || flat[0] === 2));
  });
  assert.equal(liveTensors().count, before);
  assert.throws(() => new StochasticDepth(1.5), /probability/);
});
