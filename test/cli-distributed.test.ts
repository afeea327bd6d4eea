// `tlcv pretrain --nproc 2` end to end on mnist:train@k=100, against the same command in one
// process: one metrics line per epoch, rank 0 alone writes (the folder holds one run's files,
// stdout one "wrote" line, stderr nothing from rank 1), and the accuracy is close to one
// process's. "Close": validation accuracy within 4 points on 200 images and final training
// loss within 10%. The two runs are not the same computation: BatchNorm normalises over each
// rank's 16 images instead of 32, and the ranks draw other dropout masks, so the equality
// itself is tested where it holds (distributed-learner.test.ts, within 1e-5); both runs are
// deterministic, so this tolerance is about the model, not about noise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { readMetricsFile } from '../src/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-cli-dist-'));
after(() => rmSync(root, { recursive: true, force: true }));

const args = ['pretrain', '--data', 'mnist:train@k=100', '--epochs', '3', '--batch-size', '32', '--lr', '0.003', '--val', '0.2', '--precision', 'fp32', '--channels-last', 'off', '--threads', '2'];

test('--nproc 2 writes one metrics line per epoch, from rank 0 alone, and trains as well as one process', () => {
  const one = join(root, 'one');
  const two = join(root, 'two');
  const a = runCli([...args, '--out', one]);
  assert.equal(a.code, 0, a.stderr);
  const b = runCli([...args, '--out', two, '--nproc', '2']);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(readdirSync(two).sort(), readdirSync(one).sort(), 'the same files as one process writes, and no other');
  assert.match(b.stdout, /^wrote .*two \([\d.]+s\); validation accuracy [\d.]+%\n$/);
  assert.doesNotMatch(b.stderr, /\[rank 1\]/, 'rank 1 is quiet');
  assert.equal(b.stderr.match(/^epoch \d\/3 /gm)?.length, 3, `one progress line per epoch, from rank 0:\n${b.stderr}`);
  const h1 = readMetricsFile(one);
  const h2 = readMetricsFile(two);
  assert.deepEqual(
    h2.map((h) => h.epoch),
    [1, 2, 3],
  );
  const [last1, last2] = [h1.at(-1)!, h2.at(-1)!];
  assert.ok(last1.valAcc! > 0.8, `one process learned the digits: ${last1.valAcc}`);
  assert.ok(Math.abs(last2.valAcc! - last1.valAcc!) <= 0.04, `validation accuracy ${last2.valAcc} with 2 processes vs ${last1.valAcc} with one`);
  assert.ok(Math.abs(last2.trainLoss - last1.trainLoss) <= 0.1 * last1.trainLoss, `training loss ${last2.trainLoss} vs ${last1.trainLoss}`);
  // Same schedule: the LR of each epoch, driven by the same number of global steps.
  assert.deepEqual(
    h2.map((h) => h.lr),
    h1.map((h) => h.lr),
  );
});
