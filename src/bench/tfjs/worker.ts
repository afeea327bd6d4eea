/**
 * The TF.js reference of `tlcv bench`: the seed CNN's training step in pure-JS TensorFlow.js
 * (its cpu backend, one thread), to show what the JS default costs. A worker process of its
 * own, so that TF.js's memory and its greeting on stdout stay out of the other figures.
 * `@tensorflow/tfjs` is a devDependency: without it the job answers with an error that the
 * harness prints next to the row.
 */
import { serveJobs, type Job } from '../core/protocol.js';
import type { HelloResult } from '../core/jobs.js';
import type { TfjsJob } from './types.js';

type Tfjs = typeof import('@tensorflow/tfjs');

let tfPromise: Promise<Tfjs> | null = null;

async function loadTfjs(): Promise<Tfjs> {
  tfPromise ??= import('@tensorflow/tfjs').then(async (tf) => {
    await tf.setBackend('cpu');
    return tf;
  });
  return tfPromise;
}

/** src/models/seed-cnn.ts in Keras layers (NHWC, as TF.js wants). */
function seedCnn(tf: Tfjs, [c, h, w]: [number, number, number]): ReturnType<Tfjs['sequential']> {
  const conv = (filters: number, first = false) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', ...(first ? { inputShape: [h, w, c] } : {}) });
  return tf.sequential({
    layers: [
      conv(64, true),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(128),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(256),
      conv(256),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 512, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

async function trainStep(job: TfjsJob): Promise<{ images: number; seconds: number }> {
  const tf = await loadTfjs();
  const [c, h, w] = job.inputSize;
  const model = seedCnn(tf, job.inputSize);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy });
  const x = tf.randomUniform([job.batch, h, w, c], -1, 1, 'float32', 0);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: job.batch }, (_, i) => i % 10), 'int32'), 10);
  try {
    for (let i = 0; i < job.warmup; i += 1) await model.trainOnBatch(x, y);
    const t0 = performance.now();
    for (let i = 0; i < job.iters; i += 1) await model.trainOnBatch(x, y);
    return { images: job.iters * job.batch, seconds: (performance.now() - t0) / 1000 };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

await serveJobs({
  hello: async (): Promise<HelloResult> => {
    const tf = await loadTfjs();
    return { threads: 1, tfjs: tf.version.tfjs, backend: tf.getBackend() };
  },
  tfjs: (j: Job) => trainStep(j as unknown as TfjsJob),
});
