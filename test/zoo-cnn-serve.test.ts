// tlcv serve (in process) with the new CNNs: concurrent requests are micro-batched into one
// folded forward and answered as the same classifier answers each image alone, and serving
// leaves no tensor behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVE_DEFAULTS, startServer, type PredictionReport } from '../src/deploy/index.js';
import { load } from '../src/runs/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { writeModelFolder, writePhotos } from './helpers/deploy-fixture.js';

let root: string;
let photos: string[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-serve-cnn-'));
  photos = await writePhotos(join(root, 'photos'), 4);
});
after(() => rmSync(root, { recursive: true, force: true }));

for (const [model, size] of [
  ['efficientnet_b0', [64, 64]],
  ['mobilenet_v3_small', [96, 80]],
] as const) {
  test(`${model} ${size.join('x')}: batched answers equal one-image answers, and no tensor is left behind`, async () => {
    const folder = join(root, model);
    await writeModelFolder(folder, model, photos, { inputSize: [...size] });
    // libtorch: one engine for the batched and the one-image answers (the engines agree within
    // 1e-4, tested by the ONNX tests; this test is about micro-batching).
    const clf = await load(folder, { engine: 'libtorch' });
    const server = await startServer(clf, { ...SERVE_DEFAULTS, port: 0, maxWaitMs: 20 });
    try {
      const alone = await Promise.all(photos.map(async (f) => clf.classify([await clf.pixels(f)])[0]!));
      const live = liveTensors().count;
      const body = (i: number): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(photos[i % photos.length]!));
      const before = ((await (await fetch(`${server.url}/healthz`)).json()) as { batches: number }).batches;
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`${server.url}/predict`, { method: 'POST', body: body(i) })));
      const reports = await Promise.all(replies.map(async (r) => ({ status: r.status, json: (await r.json()) as PredictionReport })));
      const batches = ((await (await fetch(`${server.url}/healthz`)).json()) as { batches: number }).batches - before;
      assert.ok(batches < 12, `12 requests in ${batches} forwards`);
      reports.forEach((r, i) => {
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const want = alone[i % photos.length]!;
        r.json.predictions[0]!.probabilities.forEach((p, k) => assert.ok(Math.abs(p - want[k]!) < 1e-5, `request ${i}, class ${k}: ${p} against ${want[k]}`));
      });
      assert.equal(liveTensors().count, live, 'no tensor left behind by 12 requests');
    } finally {
      await server.close();
      clf.dispose();
    }
  });
}
