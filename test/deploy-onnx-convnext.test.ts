// ONNX export of ConvNeXt: onnxruntime-node gives tlcv's logits within 1e-4 and onnx.checker
// accepts the file (test/helpers/onnx-parity.ts).
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOnnxExport } from './helpers/onnx-parity.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-onnx-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CASES: [string, [number, number]][] = [
  ['convnext_tiny', [32, 32]],
  ['convnext_small', [32, 64]],
];

for (const [model, size] of CASES) {
  test(`${model} at ${size.join('x')}: onnxruntime gives tlcv's logits within 1e-4, and onnx.checker accepts the file`, () => checkOnnxExport(root, model, size));
}
