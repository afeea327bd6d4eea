// ONNX export of EfficientNet B0-B3 and V2-S (see helpers/onnx-cnn.ts): onnxruntime against
// tlcv predict within 1e-4, onnx.checker on every file. Small inputs keep the file fast; B0
// runs at its own size with its weights' preprocessing.
import assert from 'node:assert/strict';
import { onnxParityTests } from './helpers/onnx-cnn.js';

onnxParityTests(
  [
    { model: 'efficientnet_b0', expectPreprocess: (p) => assert.deepEqual([p.inputSize, p.cropPct, p.interpolation], [[3, 224, 224], 224 / 256, 'bicubic']) },
    { model: 'efficientnet_b1', inputSize: [64, 64] },
    { model: 'efficientnet_b2', inputSize: [64, 64] },
    { model: 'efficientnet_b3', inputSize: [64, 48] },
    { model: 'efficientnet_v2_s', inputSize: [64, 64] },
  ],
  (ops) => {
    // SiLU is x * Sigmoid(x); squeeze-excitation pools, gates and multiplies.
    const expected = ['Add', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Mul', 'Sigmoid', 'Softmax'];
    for (const m of ['efficientnet_b0', 'efficientnet_b1', 'efficientnet_b2', 'efficientnet_b3', 'efficientnet_v2_s']) assert.deepEqual(ops(m), expected, m);
  },
);
