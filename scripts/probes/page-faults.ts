/**
 * Page faults per inference step, in a fresh process and after the training rows of the same
 * model (as in `tlcv bench`), through the bench's own throughput job. Issue 16 asked why the
 * bench's inference rows trailed PyTorch's best while isolated runs did not; this prints the
 * evidence. Compare with TLCV_CPU_CACHE_MB=0 (libtorch's allocator) and with
 * peers/page_faults.py (PyTorch). By hand:
 *   node dist/scripts/probes/page-faults.js isolated mobilenet_v2_035 224
 *   node dist/scripts/probes/page-faults.js bench mobilenet_v2_035 224
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throughput } from '../../src/bench/throughput/tlcv-jobs.js';
import { syntheticImages, writeImageSet } from '../../src/bench/core/data-files.js';
import type { Shape3 } from '../../src/bench/core/jobs.js';
import { TLCV_SETTINGS, type ThroughputJob } from '../../src/bench/throughput/types.js';

const [mode = 'isolated', model = 'mobilenet_v2_035', side = '224'] = process.argv.slice(2);
const shape: Shape3 = [model === 'seed-cnn' ? 1 : 3, Number(side), Number(side)];
const dir = mkdtempSync(join(tmpdir(), 'tlcv-faults-'));
try {
  const data = writeImageSet(dir, 'x', syntheticImages(64, shape, 10, 0));
  const base = { kind: 'throughput' as const, warmup: 2, iters: 2, minSeconds: 2, maxIters: 200, model, inputSize: shape, numClasses: 10, batch: 64, images: data.images, labels: data.labels };
  const job = (setting: (typeof TLCV_SETTINGS)[number], m: 'train' | 'infer'): ThroughputJob => ({ ...base, ...setting, mode: m });
  if (mode === 'bench') for (const s of TLCV_SETTINGS) await throughput(job(s, 'train'));
  for (let rep = 0; rep < 3; rep += 1) {
    const faults0 = process.resourceUsage().minorPageFault;
    const cpu0 = process.cpuUsage();
    const r = await throughput(job(TLCV_SETTINGS[0]!, 'infer'));
    const cpu = process.cpuUsage(cpu0);
    const steps = r.images / base.batch;
    const perImage = (us: number): string => (us / 1000 / r.images).toFixed(2);
    console.log(
      `${mode} rep ${rep}: ${(r.images / r.seconds).toFixed(1)} images/s, ${Math.round((process.resourceUsage().minorPageFault - faults0) / steps)} page faults per step, CPU ms per image ${perImage(cpu.user)} user + ${perImage(cpu.system)} system (${r.plan})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
