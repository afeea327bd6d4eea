/**
 * Training parity of the zoo's new CNNs against PyTorch, run by hand (minutes; the test
 * test/zoo-training-parity.test.ts runs a small one):
 *
 *   node dist/scripts/probes/zoo-training.js [model ...] [--train K] [--epochs E] [--size S]
 *
 * Each model (default efficientnet_b0 and mobilenet_v3_small) is trained from scratch on
 * Fashion-MNIST (K images per class from the training set, default 400: 4,000 images; gray
 * repeated to RGB and resized to S px, default 32; E epochs, default 5) by tlcv's Learner, then
 * by torchvision in peers/zoo_training.py with the same recipe: the same initial weights (the
 * same seed builds the same weights on both sides), the same images in the same order each
 * epoch (the Learner's loader's), the generator seeded alike at each epoch's start, AdamW (lr
 * 1e-3, weight decay 1e-4, no schedule), batch 64, label smoothing 0.1, fp32, the same thread
 * count. Prints each side's mean training loss per epoch and test accuracy (K/2 test images per
 * class) as trained and after recomputing BatchNorm statistics on the training images (see
 * zoo-training-run.ts for why), and the largest difference between the two sides' test logits.
 */
import { cpus } from 'node:os';
import { getNumThreads } from '../../src/tensor/index.js';
import { fashionMnist, RECIPE, trainingParity, type Side } from './zoo-training-run.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const models = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
const perClass = flag('train', 400);
const epochs = flag('epochs', 5);
const size = flag('size', 32);
const pct = (a: number): string => `${(100 * a).toFixed(2)}%`;
const line = (who: string, s: Side): string =>
  `  ${who.padEnd(8)} train loss per epoch ${s.losses.map((l) => l.toFixed(4)).join(' ')}  test accuracy ${pct(s.trained.accuracy)}, BatchNorm recomputed ${pct(s.recalibrated.accuracy)}  (${s.seconds.toFixed(0)} s training)`;

const train = await fashionMnist('train', perClass, size);
const test = await fashionMnist('test', Math.max(1, Math.floor(perClass / 2)), size);
console.log(
  `Fashion-MNIST ${train.n} training / ${test.n} test images at 3x${size}x${size}, ${epochs} epochs, batch ${RECIPE.batch}, AdamW lr ${RECIPE.lr}, ${getNumThreads()} threads, ${cpus()[0]?.model ?? 'cpu'}`,
);
for (const name of models.length > 0 ? models : ['efficientnet_b0', 'mobilenet_v3_small']) {
  const { tlcv: t, torch: p, logitDiff } = await trainingParity(name, train, test, epochs);
  console.log(name);
  console.log(line('tlcv', t));
  console.log(line('PyTorch', p));
  const diff = (f: (s: Side) => number): string => (100 * (f(t) - f(p))).toFixed(2);
  console.log(`  accuracy difference ${diff((s) => s.trained.accuracy)} points (recomputed: ${diff((s) => s.recalibrated.accuracy)}); largest test-logit difference ${logitDiff.toExponential(2)}`);
}
