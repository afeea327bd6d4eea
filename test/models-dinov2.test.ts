// DINOv2 ViT-S/14 against a PyTorch reference written from the paper and the official checkpoint
// layout (peers/dinov2_reference.py): init draw for draw, the official file's keys and shapes
// (a real .pth, random values) loading with nothing missing or unexpected, eval and train logits
// and every gradient, and the position embedding interpolated as PyTorch's bicubic does it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { createModel, loadPretrained, loadWeightsFile, type DinoVisionTransformer } from '../src/models/index.js';
import { F, getNumThreads, manualSeed, randn, tidy, type Tensor } from '../src/tensor/index.js';
import { assertClose, assertCloseFast } from './helpers/assert-close.js';
import { peerFixture } from './helpers/peer.js';

const [H, W] = [28, 42];
const SEED = 19;
const { peer, get } = peerFixture('dinov2_parity.py', ['dinov2_vits14', H, W, 2, 10, SEED, getNumThreads()].map(String));
const t = peer.tensors;
const prefixed = (prefix: string): Map<string, Tensor> => new Map([...t].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
const maxAbs = (x: Tensor): number => tidy(() => x.abs().max().item());

function build(): DinoVisionTransformer {
  manualSeed(SEED);
  return createModel('dinov2_vits14', { numClasses: 10, inputSize: [H, W] }) as DinoVisionTransformer;
}

test('dinov2_vits14: state-dict names, order and shapes are the reference\'s, and init is its draws', () => {
  const model = build();
  try {
    const init = prefixed('init.');
    assert.deepEqual([...model.stateDict().keys()], [...init.keys()]);
    for (const [k, v] of model.stateDict()) assertCloseFast(v, init.get(k)!, { rtol: 1e-6, atol: 1e-7, what: `init of ${k}` });
    assert.deepEqual(model.stateDict().get('pos_embed')!.shape, [1, 37 * 37 + 1, 384], 'a 37x37 grid, as the published 518-px models');
  } finally {
    model.dispose();
  }
});

test('dinov2_vits14: eval and train logits and every gradient match the reference within 1e-4', () => {
  const model = build();
  try {
    assert.deepEqual(model.loadStateDict(prefixed('sd.')), { missing: [], unexpected: [], mismatched: [] });
    const x = get('x');
    model.eval();
    tidy(() => assertClose(model.forward(x), get('eval.logits'), { rtol: 1e-4, atol: 1e-4, what: 'eval logits' }));
    model.train();
    tidy(() => {
      const logits = model.forward(x);
      const loss = F.crossEntropy(logits, get('y'));
      assertClose(logits, get('train.logits'), { rtol: 1e-4, atol: 1e-4, what: 'train logits' });
      assertClose(loss, get('train.loss'), { rtol: 1e-5, atol: 1e-6, what: 'train loss' });
      loss.backward();
    });
    const gradNames = peer.meta.grad_names as string[];
    const params = model.namedParameters();
    // The mask token (used only by DINOv2's masked-image pretraining) is a buffer here: it never takes a gradient.
    assert.deepEqual([...params.keys()], (peer.meta.param_names as string[]).filter((k) => k !== 'mask_token'), 'parameters in the reference\'s order');
    assert.deepEqual(gradNames, [...params.keys()], 'every parameter gets a gradient');
    for (const name of gradNames) {
      tidy(() => {
        const grad = params.get(name)!.grad;
        assert.ok(grad !== null, `${name} has a gradient`);
        const expected = get(`grad.${name}`);
        assertCloseFast(grad, expected, { rtol: 1e-4, atol: 1e-4 * maxAbs(expected), what: `grad of ${name}` });
      });
    }
    assert.ok(model.namedBuffers().has('mask_token'));
    model.zeroGrad();
  } finally {
    model.dispose();
  }
});

test('dinov2_vits14: the position embedding is interpolated as the official code does (bicubic, scale (grid + 0.1) / 37)', () => {
  const model = build();
  try {
    model.loadStateDict(prefixed('sd.'));
    for (const [h, w] of [[518, 518], [224, 224], [28, 42], [H, W]] as const) {
      tidy(() => assertClose(model.positionEmbedding(h, w, 'float32'), get(`pos.${h}x${w}`), { rtol: 1e-6, atol: 1e-7, what: `position embedding for ${h}x${w}` }));
    }
    tidy(() => assert.deepEqual(model.positionEmbedding(224, 224, 'float32').shape, [1, 16 * 16 + 1, 384]));
  } finally {
    model.dispose();
  }
});

test('dinov2_vits14: the official layout (a .pth, no head) loads with nothing missing or unexpected, and the head is left fresh', async () => {
  const model = build();
  const logs: string[] = [];
  try {
    const report = await loadWeightsFile(model, join(peer.dir, 'official.pth'), { log: (m) => logs.push(m) });
    assert.deepEqual(report.droppedClassifier, ['head.weight', 'head.bias']);
    assert.equal(report.loaded.length, 3 + 2 + 12 * 14 + 2, 'cls_token, pos_embed, mask_token, patch_embed.proj (2), 14 per block, norm (2)');
    assert.ok(report.loaded.includes('blocks.11.ls2.gamma') && report.loaded.includes('mask_token'));
    assert.match(logs.join('\n'), /backbone's, without a classifier; head left freshly initialised/);
    const sd = prefixed('sd.');
    for (const k of report.loaded) assertCloseFast(model.stateDict().get(k)!, sd.get(k)!, { rtol: 0, atol: 0, what: k });
    // Another layout (a renamed layer scale, as timm's checkpoints have) is refused, naming both keys.
    const renamed = new Map([...sd].filter(([k]) => !k.startsWith('head.')).map(([k, v]) => [k === 'blocks.3.ls1.gamma' ? 'blocks.3.ls1.weight' : k, v]));
    assert.throws(
      () => loadPretrained(model, renamed),
      (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && /missing keys: blocks\.3\.ls1\.gamma/.test(e.message) && /unexpected keys: blocks\.3\.ls1\.weight/.test(e.message),
    );
  } finally {
    model.dispose();
  }
});

test('dinov2_vits14 takes any multiple of 14 and names the patch size for anything else', () => {
  const model = build();
  try {
    model.eval();
    tidy(() => {
      assert.deepEqual(model.forward(randn([1, 3, 56, 14])).shape, [1, 10]);
      assert.throws(() => model.forward(randn([1, 3, 30, 28])), (e: unknown) => e instanceof TlcvError && /multiples of 14 for dinov2_vits14/.test(e.message));
    });
    assert.throws(() => createModel('dinov2_vits14', { inputSize: [30, 30] }), (e: unknown) => e instanceof TlcvError && e.message === 'dinov2_vits14 cuts images into 14x14 patches: its input size must be a multiple of 14 on each side, got 30x30 (--input-size 42x42, for one)');
  } finally {
    model.dispose();
  }
});
