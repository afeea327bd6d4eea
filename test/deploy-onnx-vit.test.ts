// ONNX export of torchvision's ViT and DINOv2: onnxruntime-node gives tlcv's logits within 1e-4 and onnx.checker
// accepts the file (test/helpers/onnx-parity.ts).
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOnnxExport } from './helpers/onnx-parity.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-onnx-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CASES: [string, [number, number]][] = [
  ['vit_b_16', [32, 48]],
  ['dinov2_vits14', [28, 42]],
  ['dinov2_vitb14', [28, 28]],
];

for (const [model, size] of CASES) {
  test(`${model} at ${size.join('x')}: onnxruntime gives tlcv's logits within 1e-4, and onnx.checker accepts the file`, () => checkOnnxExport(root, model, size));
}
