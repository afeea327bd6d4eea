/**
 * The deploy worker of `tlcv bench --only serve`: makes the model folders and photos that the
 * two servers share, and times onnxruntime-node against tlcv's libtorch on the same model, in
 * its own process with the bench's thread count. Answers jobs on stdin (see ../core/protocol.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createModel } from '../../models/index.js';
import { F, fromTypedArray, getNumThreads, inferenceMode, manualSeed, tidy } from '../../tensor/index.js';
import { saveModelFolder } from '../../runs/index.js';
import { exportOnnx } from '../../deploy/index.js';
import { legacyPreprocess } from '../../data/index.js';
import { serveJobs, type Job } from '../core/protocol.js';
import { timeSteps } from '../core/jobs.js';
import type { EnginesJob, EnginesResult, PrepareJob } from './types.js';

const classesOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `class${i}`);

/** A model folder (random init, seeded) and PNG photos 1.5x its input size, for both servers. */
async function prepare(j: PrepareJob): Promise<{ folder: string; photos: string[] }> {
  manualSeed(j.seed);
  const [c, h, w] = j.inputSize;
  const model = createModel(j.model, { numClasses: j.numClasses, inChannels: c, inputSize: [h, w] });
  const folder = join(j.dir, `${j.model}-${j.inputSize.join('x')}`);
  // saveModelFolder writes into an existing folder (it no longer makes one).
  // The photos are stretched whole, as serving benchmarks have always measured it.
  saveModelFolder(folder, model, { classes: classesOf(j.numClasses), preprocess: legacyPreprocess(model.config) });
  model.dispose();
  const [pw, ph] = [Math.round(w * 1.5), Math.round(h * 1.5)];
  const photos: string[] = [];
  mkdirSync(join(folder, 'photos'), { recursive: true });
  for (let i = 0; i < j.photos; i += 1) {
    const px = Buffer.alloc(pw * ph * 3);
    for (let p = 0; p < pw * ph; p += 1) {
      const [x, y] = [p % pw, Math.floor(p / pw)];
      px[3 * p] = 128 + 100 * Math.sin((x + i * 7) / 9);
      px[3 * p + 1] = 128 + 100 * Math.cos((y * (i + 1)) / 13);
      px[3 * p + 2] = (x * y + i * 31) % 256;
    }
    const file = join(folder, 'photos', `${i}.png`);
    await sharp(px, { raw: { width: pw, height: ph, channels: 3 } }).png().toFile(file);
    photos.push(file);
  }
  return { folder, photos };
}

/** Inference throughput of one model in both engines, fp32, on one batch of random pixels. */
async function engines(j: EnginesJob): Promise<EnginesResult> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    throw new Error('onnxruntime-node is not installed (a devDependency of tlcv: run npm install in the tlcv folder)');
  }
  manualSeed(0);
  const [c, h, w] = j.inputSize;
  const model = createModel(j.model, { numClasses: j.numClasses, inChannels: c, inputSize: [h, w] }).eval();
  const bytes = exportOnnx(model, { classes: classesOf(j.numClasses), preprocessing: legacyPreprocess(model.config) });
  const threads = getNumThreads();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const pixels = Float32Array.from({ length: j.batch * c * h * w }, (_, i) => (i * 7919) % 256);
  const input = new ort.Tensor('float32', pixels, [j.batch, c, h, w]);
  // The same work on both sides: pixels in [0, 255] in, normalised, probabilities out.
  const mean = model.config.mean;
  const std = model.config.std;
  const tlcvStep = (): void =>
    inferenceMode(() =>
      tidy(() => {
        const x = fromTypedArray(pixels, [j.batch, c, h, w]).div(255);
        const n = x.sub(fromTypedArray(Float32Array.from(mean), [1, c, 1, 1])).div(fromTypedArray(Float32Array.from(std), [1, c, 1, 1]));
        F.softmax(model.forward(n), 1).toFlatArray();
      }),
    );
  // onnxruntime-node's run is asynchronous: time it with its own loop.
  const ortTimed = async (): Promise<number> => {
    const t0 = performance.now();
    let runs = 0;
    while (runs < j.iters || ((performance.now() - t0) / 1000 < j.minSeconds && runs < j.maxIters)) {
      await session.run({ image: input });
      runs += 1;
    }
    return (runs * j.batch) / ((performance.now() - t0) / 1000);
  };
  for (let i = 0; i < j.warmup; i += 1) {
    tlcvStep();
    await session.run({ image: input });
  }
  const out: EnginesResult = { tlcv: [], onnxruntime: [], onnxruntimeVersion: ort.env.versions?.common ?? 'unknown' };
  for (let rep = 0; rep < j.reps; rep += 1) {
    const tlcvFirst = rep % 2 === 0;
    if (!tlcvFirst) out.onnxruntime.push(await ortTimed());
    const t = timeSteps(tlcvStep, j);
    out.tlcv.push((t.runs * j.batch) / t.seconds);
    if (tlcvFirst) out.onnxruntime.push(await ortTimed());
  }
  await session.release();
  model.dispose();
  return out;
}

await serveJobs({
  hello: () => ({ threads: getNumThreads() }),
  prepare: (j: Job) => prepare(j as unknown as PrepareJob),
  engines: (j: Job) => engines(j as unknown as EnginesJob),
});
