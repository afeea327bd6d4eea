// The transformer building blocks against PyTorch (test/peer/transformer_blocks.py, run now):
// trunc_normal_'s draws, nn.MultiheadAttention's init order, outputs and gradients, LayerNorm and
// torchvision's LayerNorm2d, GELU, bicubic interpolation; and the two attention paths (libtorch's
// fused op and matmul-softmax-matmul) giving the same numbers, forward and backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GELU, LayerNorm, LayerNorm2d, MultiheadAttention, attentionPath, init, scaledDotProductAttention } from '../src/nn/index.js';
import { F, arange, getNumThreads, linspace, manualSeed, noGrad, opExists, randn, runtimeInfo, tidy, zeros, type Tensor } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';
import { peerFixture } from './helpers/peer.js';

const SEED = 23;
const { peer, get } = peerFixture('transformer_blocks.py', [String(SEED), String(getNumThreads())]);
const t = peer.tensors;

test('truncNormal_ draws what torch.nn.init.trunc_normal_ draws after the same seed', () => {
  manualSeed(SEED);
  tidy(() => {
    [[0, 0.02, -2, 2], [0, 1, -2, 2], [0.5, 2, -1, 3]].forEach(([mean, std, a, b], i) => {
      const w = init.truncNormal_(zeros([64, 33]), mean, std, a, b);
      assertClose(w, get(`trunc.${i}`), { rtol: 1e-6, atol: 1e-7, what: `trunc_normal_ #${i}` });
      assert.ok(w.min().item() >= a! && w.max().item() <= b!);
    });
  });
});

test("MultiheadAttention: nn.MultiheadAttention's init (its draw order), output and every gradient", () => {
  manualSeed(SEED + 1);
  const mha = new MultiheadAttention(32, 4);
  try {
    const prefix = (p: string): Map<string, Tensor> => new Map([...t].filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
    assert.deepEqual([...mha.stateDict().keys()], [...prefix('mha.init.').keys()]);
    for (const [k, v] of mha.stateDict()) assertClose(v, prefix('mha.init.').get(k)!, { rtol: 1e-6, atol: 1e-7, what: `init of ${k}` });
    mha.loadStateDict(prefix('mha.sd.'));
    tidy(() => {
      const x = get('mha.x').clone().requiresGrad_();
      const y = mha.forward(x);
      assertClose(y, get('mha.y'), { rtol: 1e-5, atol: 1e-5, what: 'attention output' });
      y.mul(arange(0, 32)).sum().backward();
      assertClose(x.grad!, get('mha.grad.x'), { rtol: 1e-4, atol: 1e-5, what: 'grad of x' });
      for (const [k, p] of mha.namedParameters()) assertClose(p.grad!, get(`mha.grad.${k}`), { rtol: 1e-4, atol: 1e-5, what: `grad of ${k}` });
    });
  } finally {
    mha.dispose();
  }
});

test('LayerNorm and LayerNorm2d (channels first, as ConvNeXt) match PyTorch, with gradients', () => {
  for (const [name, layer] of [['ln', new LayerNorm(16, { eps: 1e-6 })], ['ln2d', new LayerNorm2d(16, { eps: 1e-6 })]] as const) {
    try {
      noGrad(() => {
        layer.weight!.copy_(get(`${name}.weight`));
        layer.bias!.copy_(get(`${name}.bias`));
      });
      tidy(() => {
        const x = get(`${name}.x`).clone().requiresGrad_();
        const y = layer.forward(x);
        assertClose(y, get(`${name}.y`), { rtol: 1e-5, atol: 1e-5, what: `${name} output` });
        y.mul(linspace(-1, 1, y.numel).reshape(y.shape)).sum().backward();
        assertClose(x.grad!, get(`${name}.grad.x`), { rtol: 1e-4, atol: 1e-5, what: `${name} grad of x` });
        assertClose(layer.weight!.grad!, get(`${name}.grad.weight`), { rtol: 1e-4, atol: 1e-5, what: `${name} grad of weight` });
      });
    } finally {
      layer.dispose();
    }
  }
});

test('GELU is the exact (erf) form, and bicubic interpolation is PyTorch\'s (by size with aligned corners, and by scale factors)', () => {
  const gelu = new GELU();
  tidy(() => {
    const x = get('gelu.x').clone().requiresGrad_();
    const y = gelu.forward(x);
    assertClose(y, get('gelu.y'), { rtol: 1e-6, atol: 1e-6, what: 'GELU' });
    y.sum().backward();
    assertClose(x.grad!, get('gelu.grad.x'), { rtol: 1e-5, atol: 1e-6, what: 'GELU gradient' });
    const grid = get('interp.x');
    assertClose(F.interpolate(grid, { size: [7, 4], mode: 'bicubic', alignCorners: true }), get('interp.aligned'), { rtol: 1e-6, atol: 1e-6, what: 'bicubic, aligned corners' });
    assertClose(F.interpolate(grid, { scaleFactor: [2.1 / 5, 3.1 / 5], mode: 'bicubic' }), get('interp.scaled'), { rtol: 1e-6, atol: 1e-6, what: 'bicubic, scale factors' });
  });
  assert.equal(new GELU().approximate, 'none');
});

test('attention: the fused op and matmul-softmax-matmul give the same numbers, forward and backward', () => {
  const path = attentionPath();
  const [major] = runtimeInfo().torchVersion.split('.').map(Number);
  // libtorch 1.13 has only the private op; 2.x the public one.
  assert.equal(opExists('scaled_dot_product_attention'), major! >= 2);
  assert.equal(path.path, 'fused');
  assert.equal(path.op, major! >= 2 ? 'aten::scaled_dot_product_attention' : 'aten::_scaled_dot_product_attention');
  manualSeed(3);
  tidy(() => {
    const [q, k, v] = [0, 1, 2].map(() => randn([2, 3, 9, 16]).requiresGrad_()) as [Tensor, Tensor, Tensor];
    const w = randn([2, 3, 9, 16]);
    const run = (p: 'fused' | 'matmul'): Tensor[] => {
      for (const x of [q, k, v]) x.grad = null;
      const out = scaledDotProductAttention(q, k, v, { path: p });
      out.mul(w).sum().backward();
      return [out, q.grad!, k.grad!, v.grad!];
    };
    const fused = run('fused');
    const matmul = run('matmul');
    ['output', 'grad of q', 'grad of k', 'grad of v'].forEach((what, i) => assertClose(fused[i]!, matmul[i]!, { rtol: 1e-5, atol: 1e-6, what }));
    // Dropout on the attention weights draws; with p = 0.5 the output differs from the plain one.
    const dropped = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, path: 'matmul' });
    assert.ok(dropped.sub(matmul[0]!).abs().max().item() > 1e-3);
  });
});
