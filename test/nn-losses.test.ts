import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrossEntropyLoss } from '../src/nn/index.js';
import { TlcvError } from '../src/errors.js';
import { disposeAll, liveTensors, tensor, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { runPeer } from './helpers/peer.js';

test('CrossEntropyLoss equals nn.CrossEntropyLoss for every reduction, with class weights and label smoothing', () => {
  const before = liveTensors().count;
  const { tensors: t } = runPeer('nn_losses.py');
  try {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const weighted of [false, true]) {
        for (const smoothing of [0, 0.2]) {
          const key = `${reduction}.${Number(weighted)}.${smoothing === 0 ? '0.0' : smoothing}`;
          const fn = new CrossEntropyLoss({ reduction, weight: weighted ? t.get('weight')! : null, labelSmoothing: smoothing });
          tidy(() => {
            const x = t.get('logits')!.clone().requiresGrad_(true);
            const loss = fn.forward(x, t.get('target')!);
            assertClose(loss, t.get(`loss.${key}`)!, { rtol: 1e-5, atol: 1e-6, what: `loss ${key}` });
            loss.sum().backward();
            const g = x.grad!;
            assertClose(g, t.get(`grad.${key}`)!, { rtol: 1e-5, atol: 1e-6, what: `grad ${key}` });
          });
          fn.dispose();
        }
      }
    }
  } finally {
    disposeAll(t);
  }
  assert.equal(liveTensors().count, before);
});

test('CrossEntropyLoss checks its settings and the class-weight count', () => {
  assert.throws(() => new CrossEntropyLoss({ labelSmoothing: 2 }), (e: unknown) => e instanceof TlcvError && /labelSmoothing/.test(e.message));
  assert.throws(() => new CrossEntropyLoss({ weight: [1, -1] }), (e: unknown) => e instanceof TlcvError && /class weights/.test(e.message));
  const fn = new CrossEntropyLoss({ weight: [1, 2, 3] });
  tidy(() => {
    assert.throws(
      () => fn.forward(tensor([[0, 1]]), tensor([1], { dtype: 'int64' })),
      (e: unknown) => e instanceof TlcvError && /Expected 2 class weights \(one per class of the logits\) but received 3/.test(e.message),
    );
  });
  fn.dispose();
});
