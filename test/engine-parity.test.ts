// The onnxruntime engine against libtorch, for every zoo model (listModels(), so models added
// later are covered when merged) at a small input: class probabilities (predict and serve's
// path, uint8 pixels in) and logits (evaluation's path, normalised batches in) agree within
// 1e-4, at batch 1 and at a batch of 3, and no tensor or session outlives the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listModels } from '../src/models/index.js';
import { InferenceEngine, openOrtSessions } from '../src/deploy/index.js';
import { planForward, type ExecutionPlan } from '../src/execution/index.js';
import { fromTypedArray, inferenceMode, liveTensors, tensor, tidy, type Tensor } from '../src/tensor/index.js';
import { spreadZooModel } from './helpers/engine-fixture.js';

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

const worstDiff = (a: number[][], b: number[][]): number => Math.max(...a.flatMap((row, i) => row.map((v, k) => Math.abs(v - b[i]![k]!))));

for (const name of listModels()) {
  test(`${name}: onnxruntime gives libtorch's probabilities and logits within 1e-4`, async () => {
    const live = liveTensors().count;
    const sessions = openOrtSessions();
    const { model, preprocess, images, spread } = spreadZooModel(name);
    const torch = new InferenceEngine({ engine: 'libtorch' });
    const ort = new InferenceEngine({ engine: 'onnxruntime' });
    try {
      for (const batch of [images.slice(0, 1), images]) {
        const a = torch.classify(model, batch, preprocess);
        const b = ort.classify(model, batch, preprocess);
        assert.equal(torch.lastEngine, 'libtorch');
        assert.equal(ort.lastEngine, 'onnxruntime');
        assert.deepEqual([b.length, b[0]!.length], [batch.length, 5]);
        const worst = worstDiff(a, b);
        assert.ok(worst <= 1e-4, `batch ${batch.length}: largest probability difference ${worst}`);
        // The comparison has teeth: the logits spread, so probabilities are far from uniform (0.2).
        if (spread && batch.length > 1) assert.ok(Math.max(...a.map((p) => Math.max(...p))) > 0.4, 'a confident prediction');
      }

      // Evaluation's path: a normalised batch through each engine's logits.
      const [c, h, w] = preprocess.inputSize;
      const pixels = new Uint8Array(images.length * c * h * w);
      images.forEach((img, i) => pixels.set(img, i * img.length));
      const x: Tensor = inferenceMode(() =>
        tidy(() => fromTypedArray(pixels, [images.length, c, h, w]).float().div(255).sub(tensor(preprocess.mean).reshape([1, c, 1, 1])).div(tensor(preprocess.std).reshape([1, c, 1, 1]))),
      );
      const torchLogits = inferenceMode(() => tidy(() => planForward(model, x, FP32).toArray() as number[][]));
      const forward = await ort.evaluationForward(model, FP32, async () => null, () => assert.fail('a pinned engine times nothing'));
      assert.ok(forward !== null, 'onnxruntime runs the evaluation');
      const viaOrt = inferenceMode(() => tidy(() => forward(x).toArray() as number[][]));
      x.dispose();
      const scale = Math.max(1, ...torchLogits.flat().map(Math.abs));
      const worst = worstDiff(torchLogits, viaOrt);
      assert.ok(worst <= 1e-4 * scale, `largest logit difference ${worst} (largest logit ${scale})`);
      assert.equal(await torch.evaluationForward(model, FP32, async () => null, () => {}), null, 'libtorch runs the loop\'s own forward');
    } finally {
      torch.dispose();
      ort.dispose();
      model.dispose();
    }
    assert.equal(openOrtSessions(), sessions, 'the session is freed with the engine');
    assert.equal(liveTensors().count, live, 'no tensor outlives the model');
  });
}
