// ONNX export of MobileNetV3 and RegNetY (see helpers/onnx-cnn.ts): onnxruntime against tlcv
// predict within 1e-4, onnx.checker on every file.
import assert from 'node:assert/strict';
import { onnxParityTests } from './helpers/onnx-cnn.js';

onnxParityTests(
  [
    { model: 'mobilenet_v3_small', inputSize: [96, 96] },
    { model: 'mobilenet_v3_large', inputSize: [64, 48] },
    { model: 'regnet_y_400mf', inputSize: [64, 64] },
    { model: 'regnet_y_1_6gf', inputSize: [64, 64] },
  ],
  (ops) => {
    // Hardswish is x * HardSigmoid(x) (opset 13 has no HardSwish); ReLU where a block says RE.
    for (const m of ['mobilenet_v3_small', 'mobilenet_v3_large']) assert.deepEqual(ops(m), ['Add', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'HardSigmoid', 'Mul', 'Relu', 'Softmax'], m);
    for (const m of ['regnet_y_400mf', 'regnet_y_1_6gf']) assert.deepEqual(ops(m), ['Add', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Mul', 'Relu', 'Sigmoid', 'Softmax'], m);
  },
);
