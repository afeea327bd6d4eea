/**
 * ONNX export of the transformer half of the zoo, checked by others than tlcv: onnxruntime-node
 * runs each exported file and must give tlcv's own logits within 1e-4, and the onnx package's
 * checker (Debian's python3-onnx) must accept it. Small inputs keep the graphs' work small; the
 * weights are each model's full set (a ViT-B file is 340 MB), so each file is checked and deleted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_OPSET, exportOnnx } from '../../src/deploy/index.js';
import { legacyPreprocess } from '../../src/data/index.js';
import { createModel, type ClassifierModel } from '../../src/models/index.js';
import { liveTensors, manualSeed, noGrad, rand, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { PEER_PYTHON } from './peer.js';

const CLASSES = ['ant', 'bee', 'cat', 'dog', 'eel'];

/**
 * Norm and layer-scale parameters, biases and the head moved away from their init (a ViT's head
 * starts at zero; ConvNeXt's layer scales at 1e-6), so that every part of the graph counts.
 */
function spread(model: ClassifierModel): void {
  noGrad(() =>
    tidy(() => {
      for (const [name, p] of model.namedParameters()) {
        if (name.startsWith(model.config.classifier)) p.copy_(randn(p.shape).mul(0.5));
        else if (p.ndim <= 1 || /layer_scale|gamma|token/.test(name)) p.add_(rand(p.shape).sub(0.5).mul(0.4));
      }
    }),
  );
}

function onnxCheck(files: string[]): Record<string, { opset: [string, number][]; inputs: [string, (string | number)[]][]; ops: string[] }> {
  const r = spawnSync(PEER_PYTHON, [resolve('test', 'peer', 'onnx_check.py'), ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `onnx.checker (python3-onnx, ${PEER_PYTHON}) refused a file:\n${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof onnxCheck>;
}

/**
 * Builds zoo model `name` at `size`, exports it into `root`, runs the file in onnxruntime and the
 * onnx checker, and deletes it.
 *
 * @example
 * await checkOnnxExport(root, 'vit_b_16', [32, 48]);
 */
export async function checkOnnxExport(root: string, name: string, size: [number, number]): Promise<void> {
  const before = liveTensors().count;
  manualSeed(7);
  const model = createModel(name, { numClasses: CLASSES.length, inputSize: size });
  const file = join(root, `${name}.onnx`);
  let image: Tensor | null = null;
  try {
    model.eval();
    spread(model);
    const config = model.config;
    writeFileSync(file, exportOnnx(model, { classes: CLASSES, preprocessing: legacyPreprocess(config) }));
    const [ch, h, w] = config.inputSize;
    const px = tidy(() => rand([3, ch, h, w]).mul(255).unary('floor')).keep();
    image = px;
    // What the graph does to [0, 255] pixels: the model's normalisation, then the model.
    const expected = tidy(() => {
      const x = px.div(255).sub(tensor(config.mean).reshape([1, ch, 1, 1])).div(tensor(config.std).reshape([1, ch, 1, 1]));
      return noGrad(() => model.forward(x)).toFlatArray();
    });
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ image: new ort.Tensor('float32', px.toTypedArray() as Float32Array, [3, ch, h, w]) });
    await session.release();
    assert.deepEqual(out.logits!.dims, [3, CLASSES.length]);
    const got = out.logits!.data as Float32Array;
    const worst = Math.max(...expected.map((v, i) => Math.abs(v - got[i]!)));
    assert.ok(worst <= 1e-4, `largest logit difference ${worst}`);
    // The comparison has teeth: the logits spread over units.
    const span = Math.max(...expected) - Math.min(...expected);
    assert.ok(span > 1, `logits span ${span}`);

    const report = onnxCheck([file])[file]!;
    assert.deepEqual(report.opset, [['', ONNX_OPSET]]);
    assert.deepEqual(report.inputs, [['image', ['N', ch, h, w]]]);
    // Opset 13's own ops: LayerNorm decomposed, GELU through Erf, attention as MatMul and Softmax.
    assert.ok(!report.ops.includes('LayerNormalization') && report.ops.includes('ReduceMean') && report.ops.includes('Erf'), report.ops.join(', '));
    if (!name.startsWith('convnext')) assert.ok(report.ops.includes('Softmax') && report.ops.includes('MatMul'), report.ops.join(', '));
  } finally {
    image?.dispose();
    model.dispose();
    rmSync(file, { force: true });
  }
  assert.equal(liveTensors().count, before);
}
