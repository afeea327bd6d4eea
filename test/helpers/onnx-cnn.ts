/**
 * ONNX export of zoo models checked by others than tlcv: onnxruntime-node runs each exported
 * file and must give `tlcv predict --json`'s probabilities within 1e-4, and the onnx package's
 * checker (Debian's python3-onnx) must accept every file. One test per case, then one checker
 * run over them all, which hands each file's op types to `checkOps`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { PredictionReport } from '../../src/deploy/index.js';
import { preprocessImageFile, resolveDataConfig, type PreprocessConfig } from '../../src/data/index.js';
import { modelPreprocess, readModelConfig } from '../../src/runs/model-folder.js';
import { CLASSES, writeModelFolder, writePhotos } from './deploy-fixture.js';
import { runCli } from './cli.js';
import { PEER_PYTHON } from './peer.js';

export interface OnnxCase {
  model: string;
  /** Input [height, width]; absent: the model's own size, with its weights' crop and kernel. */
  inputSize?: [number, number];
  /** What the recorded preprocessing must be (checks the model's own defaults). */
  expectPreprocess?: (p: PreprocessConfig) => void;
}

const label = (c: OnnxCase): string => `${c.model} ${c.inputSize ? `3x${c.inputSize.join('x')}` : 'at its own size and preprocessing'}`;

/** Registers the tests for `cases` in the calling test file. */
export function onnxParityTests(cases: OnnxCase[], checkOps: (ops: (model: string) => string[]) => void): void {
  let root: string;
  let photos: string[];
  const exported = new Map<string, string>();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'tlcv-onnx-cnn-'));
    photos = await writePhotos(join(root, 'photos'), 3);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const c of cases) {
    test(`${label(c)}: onnxruntime gives tlcv predict's probabilities within 1e-4`, async (t) => {
      const folder = join(root, c.model);
      const own = { preprocess: (m: Parameters<typeof resolveDataConfig>[0]['model']) => resolveDataConfig({ model: m }) };
      await writeModelFolder(folder, c.model, photos, c.inputSize ? { inputSize: c.inputSize } : own);
      const onnxFile = `${folder}.onnx`;
      const ex = runCli(['export', '--model', folder, '--format', 'onnx', '--out', onnxFile]);
      assert.equal(ex.code, 0, ex.stderr);
      exported.set(c.model, onnxFile);

      const pr = runCli(['predict', '--model', folder, ...photos, '--json']);
      assert.equal(pr.code, 0, pr.stderr);
      const report = JSON.parse(pr.stdout) as PredictionReport;
      const prep = modelPreprocess(readModelConfig(folder));
      c.expectPreprocess?.(prep);
      const [ch, h, w] = prep.inputSize;
      const input = new Float32Array(photos.length * ch * h * w);
      for (const [i, f] of photos.entries()) input.set(await preprocessImageFile(f, prep), i * ch * h * w);
      const session = await ort.InferenceSession.create(onnxFile);
      const out = await session.run({ image: new ort.Tensor('float32', input, [photos.length, ch, h, w]) });
      assert.deepEqual(out.probabilities!.dims, [photos.length, CLASSES.length]);
      const probs = out.probabilities!.data as Float32Array;
      let worst = 0;
      for (const [i, p] of report.predictions.entries()) {
        for (let k = 0; k < CLASSES.length; k += 1) worst = Math.max(worst, Math.abs(probs[i * CLASSES.length + k]! - p.probabilities[k]!));
      }
      assert.ok(worst <= 1e-4, `largest probability difference ${worst}`);
      const confident = Math.max(...report.predictions.map((p) => p.top[0]!.probability));
      assert.ok(confident > 0.5, `the comparison has teeth: the most confident prediction is ${confident}`);
      t.diagnostic(`largest probability difference ${worst.toExponential(1)}`);
    });
  }

  test('onnx.checker accepts every exported file; BatchNorm is folded and Dropout dropped', (t) => {
    if (exported.size !== cases.length) return t.skip('an export above failed');
    const r = spawnSync(PEER_PYTHON, [resolve('test', 'peer', 'onnx_check.py'), ...exported.values()], { encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(r.status, 0, `onnx.checker (python3-onnx, ${PEER_PYTHON}) refused a file:\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as Record<string, { ops: string[] }>;
    const ops = (model: string): string[] => report[exported.get(model)!]!.ops;
    for (const model of exported.keys()) assert.ok(!ops(model).includes('BatchNormalization') && !ops(model).includes('Dropout'), `${model}: ${ops(model).join(', ')}`);
    checkOps(ops);
  });
}
