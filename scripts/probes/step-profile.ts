/**
 * One bench throughput step (src/bench/throughput/tlcv-jobs.ts), timed and then profiled op by op, for
 * deciding where a row's time goes. CPU time per image is printed beside wall time: on a
 * shared machine it moves less. By hand:
 *   node dist/scripts/probes/step-profile.js seed-cnn 28 train auto
 *   node dist/scripts/probes/step-profile.js resnet18 32 infer fp32 128
 * Arguments: model, side, train|infer, setting (auto, fp32, bf16+cl, fp32+cl), batch, timed
 * repetitions (3), profiled steps (5; 0 for none).
 * (TLCV_PLAN_CACHE=off makes 'auto' time its plan afresh rather than take a cached choice.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRunner } from '../../src/bench/throughput/tlcv-jobs.js';
import { timeSteps, type Shape3 } from '../../src/bench/core/jobs.js';
import { syntheticImages, writeImageSet } from '../../src/bench/core/data-files.js';
import { TLCV_SETTINGS, type SideSetting } from '../../src/bench/throughput/types.js';
import { profileOps } from '../../src/tensor/index.js';

const [model = 'seed-cnn', side = '28', mode = 'train', setting = 'auto', batchArg = '64', repsArg = '3', profiledArg = '5'] = process.argv.slice(2);
const shape: Shape3 = [model === 'seed-cnn' ? 1 : 3, Number(side), Number(side)];
const batch = Number(batchArg);
// Beside the bench's own settings, pinned plans: bf16+cl and fp32+cl.
const pinned: SideSetting[] = [
  { name: 'bf16+cl', precision: 'bf16', bf16: true, channelsLast: true },
  { name: 'fp32+cl', precision: 'fp32', bf16: false, channelsLast: true },
];
const s = [...TLCV_SETTINGS, ...pinned].find((t) => t.name === setting);
if (s === undefined) throw new Error(`setting: one of ${[...TLCV_SETTINGS, ...pinned].map((t) => t.name).join(', ')}`);
const dir = mkdtempSync(join(tmpdir(), 'tlcv-profile-'));
try {
  const data = writeImageSet(dir, 'x', syntheticImages(batch, shape, 10, 0));
  const r = makeRunner({ kind: 'throughput', warmup: 3, iters: 3, minSeconds: 2, maxIters: 500, model, inputSize: shape, numClasses: 10, batch, images: data.images, labels: data.labels, ...s, mode: mode === 'infer' ? 'infer' : 'train' });
  try {
    for (let rep = 0; rep < Number(repsArg); rep += 1) {
      const cpu0 = process.cpuUsage();
      const { runs, seconds } = timeSteps(r.step, { warmup: 0, iters: 3, minSeconds: 2, maxIters: 500 });
      const cpu = process.cpuUsage(cpu0);
      console.log(`${(runs * batch / seconds).toFixed(1)} images/s, CPU ms per image ${((cpu.user + cpu.system) / 1000 / runs / batch).toFixed(3)} (${r.describe})`);
    }
    const steps = Number(profiledArg);
    if (steps > 0) {
      const p = profileOps(() => {
        for (let i = 0; i < steps; i += 1) r.step();
      });
      console.log(`profiled ${steps} steps: wall ${(p.wallMs / steps).toFixed(2)} ms/step, in ops ${(p.opsMs / steps).toFixed(2)}`);
      for (const row of p.rows.slice(0, 25)) console.log(`  ${row.name.padEnd(40)} ${(row.selfMs / steps).toFixed(3).padStart(8)} ms self ${(row.totalMs / steps).toFixed(3).padStart(8)} total ${String(row.calls / steps).padStart(5)} calls`);
    }
  } finally {
    r.dispose();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
