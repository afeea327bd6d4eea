/**
 * Forward/backward parity of a zoo model against torchvision, using the fixtures written by
 * test/peer/models_parity.py (same seed, same weights, same input).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { BatchNorm2d, StochasticDepth } from '../../src/nn/index.js';
import { createModel } from '../../src/models/index.js';
import { F, disposeAll, getNumThreads, manualSeed, tidy, type Tensor } from '../../src/tensor/index.js';
import { assertClose, assertCloseFast } from './assert-close.js';
import { peerGetter, runPeer } from './peer.js';

export interface ParityCase {
  model: string;
  input: [number, number, number];
  batch: number;
  numClasses: number;
  seed: number;
  /**
   * EfficientNet's stochastic depth probability on both sides (torchvision's
   * stochastic_depth_prob, tlcv's stochasticDepthProb): 0 turns it off, so the train-mode
   * forward draws only dropout's mask, which both sides draw alike.
   */
  stochasticDepthProb?: number;
  /** Compare every parameter's gradient, not a sample of seven. */
  allGrads?: boolean;
}

const maxAbs = (t: Tensor): number => tidy(() => t.abs().max().item());
const maxDiff = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item());

/** The worst differences seen (after every assertion passed), for the tests to report. */
export interface ParityFigures {
  /** The largest |eval logit| torchvision gave: freshly initialised classifiers give small ones. */
  logitScale: number;
  evalLogits: number;
  trainLogits: number;
  /** max |grad - torch's| / max |torch's| over the compared parameters, and where. */
  gradient: number;
  gradientWhere: string;
  gradsCompared: number;
}

function withPrefix(all: Map<string, Tensor>, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, v] of all) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

export function checkModelParity(c: ParityCase): ParityFigures {
  const [ch, h, w] = c.input;
  const extra = [c.stochasticDepthProb === undefined ? '-' : String(c.stochasticDepthProb), c.allGrads === true ? 'all' : 'some'];
  const peer = runPeer('models_parity.py', [...[c.model, ch, h, w, c.batch, c.numClasses, c.seed, getNumThreads()].map(String), ...extra]);
  // The fixtures of a large model run to hundreds of MB: they are read, so they go.
  rmSync(peer.dir, { recursive: true, force: true });
  const t = peer.tensors;
  const get = peerGetter(t);
  const sd = withPrefix(t, 'sd.');
  manualSeed(c.seed);
  const model = createModel(c.model, { numClasses: c.numClasses, inChannels: ch, inputSize: [h, w], ...(c.stochasticDepthProb === undefined ? {} : { stochasticDepthProb: c.stochasticDepthProb }) });
  try {
    // Same seed, same construction order: weights equal PyTorch's own init, except what the
    // peer randomised afterwards (BatchNorm and LayerNorm affine parameters and statistics, ...).
    const perturbed = new Set((peer.meta.perturbed as string[] | undefined) ?? []);
    const bnPrefixes = [...model.namedModules()].filter(([, m]) => m instanceof BatchNorm2d).map(([p]) => `${p}.`);
    const own = model.stateDict();
    assert.deepEqual([...own.keys()], [...sd.keys()], 'state-dict keys and their order equal torchvision\'s');
    for (const [k, v] of own) {
      assert.deepEqual(v.shape, sd.get(k)!.shape, `shape of ${k}`);
      if (perturbed.has(k) || bnPrefixes.some((p) => k.startsWith(p))) continue;
      assertCloseFast(v, sd.get(k)!, { rtol: 1e-6, atol: 1e-7, what: `init of ${k}` });
    }

    const report = model.loadStateDict(sd);
    assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
    const x = get('x');
    const y = get('y');
    model.eval();
    const figures: ParityFigures = { logitScale: maxAbs(get('eval.logits')), evalLogits: 0, trainLogits: 0, gradient: 0, gradientWhere: '', gradsCompared: 0 };
    tidy(() => {
      const logits = model.forward(x);
      assertClose(logits, get('eval.logits'), { rtol: 1e-4, atol: 1e-4, what: `${c.model} eval logits` });
      figures.evalLogits = maxDiff(logits, get('eval.logits'));
    });

    model.train();
    // The peer builds with stochastic depth off (torchvision's stochastic_depth_prob=0).
    for (const m of model.namedModules().values()) if (m instanceof StochasticDepth) m.training = false;
    tidy(() => {
      manualSeed(c.seed + 1);
      const logits = model.forward(x);
      const loss = F.crossEntropy(logits, y);
      assertClose(logits, get('train.logits'), { rtol: 1e-4, atol: 1e-4, what: `${c.model} train logits` });
      figures.trainLogits = maxDiff(logits, get('train.logits'));
      assertClose(loss, get('train.loss'), { rtol: 1e-5, atol: 1e-6, what: `${c.model} train loss` });
      loss.backward();
    });
    const params = model.namedParameters();
    const gradNames = peer.meta.grad_names as string[];
    if (c.allGrads === true) assert.deepEqual(gradNames, [...params.keys()], 'the peer sent every parameter\'s gradient');
    for (const name of gradNames) {
      tidy(() => {
        const expected = get(`grad.${name}`);
        const grad = params.get(name)!.grad;
        assert.ok(grad !== null, `${name} has a gradient`);
        assertCloseFast(grad, expected, { rtol: 1e-4, atol: 1e-4 * maxAbs(expected), what: `grad of ${name}` });
        const rel = maxDiff(grad, expected) / Math.max(maxAbs(expected), 1e-30);
        if (rel > figures.gradient || figures.gradientWhere === '') [figures.gradient, figures.gradientWhere] = [rel, name];
        figures.gradsCompared += 1;
      });
    }
    const state = model.stateDict();
    for (const bn of peer.meta.bn_names as string[]) {
      for (const s of ['running_mean', 'running_var']) {
        assertClose(state.get(`${bn}.${s}`)!, get(`after.${bn}.${s}`), { rtol: 1e-4, atol: 1e-5, what: `${bn}.${s} after one train step` });
      }
      assert.equal(state.get(`${bn}.num_batches_tracked`)!.item(), get(`after.${bn}.num_batches_tracked`).item());
    }
    model.zeroGrad();
    return figures;
  } finally {
    model.dispose();
    disposeAll(t);
  }
}
