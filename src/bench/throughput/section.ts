/**
 * The throughput section: training and inference images/s of each model row, tlcv's default
 * plan and fp32 against PyTorch's default and its three faster settings, on the shared workers.
 * The sides' settings alternate, and the order flips every repetition, so that load from
 * elsewhere on a shared machine falls on both.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection } from '../core/section.js';
import { syntheticImages, writeImageSet } from '../core/data-files.js';
import { figure, type Figure } from '../core/report.js';
import type { Shape3, Timing } from '../core/jobs.js';
import { PEER_SETTINGS, TLCV_SETTINGS, throughputRatios, type FlopsResult, type ModelRow, type ThroughputResult, type ThroughputRow } from './types.js';
import { throughputMarkdown, throughputTargets } from './report.js';
import { recordMeasuredSpeeds } from '../../models/index.js';

const ZOO: [string, Shape3][] = [
  ['seed-cnn', [1, 28, 28]],
  ['resnet18', [3, 32, 32]],
  ['resnet18', [3, 224, 224]],
  ['mobilenet_v2_035', [3, 32, 32]],
  ['mobilenet_v2_035', [3, 224, 224]],
];

/**
 * Issue 20's backbones at 224 px: in the full preset, or named with --models (each costs
 * minutes on two cores: vit_b_16 trains at a few images/s there).
 */
const MODERN: [string, Shape3][] = [
  ['efficientnet_b0', [3, 224, 224]],
  ['mobilenet_v3_large', [3, 224, 224]],
  ['convnext_tiny', [3, 224, 224]],
  ['vit_b_16', [3, 224, 224]],
  ['dinov2_vits14', [3, 224, 224]],
];

/** The rows of a preset, or with `models` given, every known row of those models (both lists). */
export function throughputRows(preset: Preset, models?: string[]): ModelRow[] {
  const quick = preset === 'quick';
  const chosen = models === undefined ? (quick ? ZOO : [...ZOO, ...MODERN]) : [...ZOO, ...MODERN].filter(([m]) => models.includes(m));
  return chosen.map(([model, inputSize]) => {
    const large = inputSize[1] >= 128;
    // --quick: a 224 px step at batch 64 takes seconds per setting, so it runs batch 16 there.
    const batch = quick && large ? 16 : 64;
    const timing: Timing = quick ? { warmup: large ? 1 : 2, iters: 1, minSeconds: 0.4, maxIters: 50 } : { warmup: 2, iters: 2, minSeconds: 2, maxIters: 200 };
    return { model, inputSize, batch, numClasses: 10, timing };
  });
}

const num = (f: Figure | undefined): string => (f === undefined ? 'n/a' : f.median.toFixed(1));

async function run(ctx: BenchContext, config: ModelRow[]): Promise<void> {
  for (const row of config) {
    const data = writeImageSet(ctx.dir, `synthetic-${row.inputSize.join('x')}-${row.batch}`, syntheticImages(row.batch, row.inputSize, row.numClasses, ctx.cfg.seed));
    let flops: number | null = null;
    try {
      flops = (await ctx.peer.request<FlopsResult>({ kind: 'flops', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses })).forwardFlopsPerImage;
    } catch {
      flops = null;
    }
    for (const mode of ['train', 'infer'] as const) {
      const samples = { tlcv: new Map<string, number[]>(), peer: new Map<string, number[]>() };
      let plan = '';
      const errors: Record<string, string> = {};
      // tlcv and PyTorch settings alternate, and the order flips every repetition.
      const order = [
        ...TLCV_SETTINGS.map((s, i) => ({ side: 'tlcv' as const, s, at: 2 * i })),
        ...PEER_SETTINGS.map((s, i) => ({ side: 'peer' as const, s, at: 2 * i + 1 })),
      ].sort((a, b) => a.at - b.at);
      for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
        for (const { side, s } of rep % 2 === 0 ? order : [...order].reverse()) {
          const key = `${side === 'tlcv' ? 'tlcv' : 'PyTorch'} ${s.name}`;
          if (errors[key] !== undefined) continue;
          const job = { kind: 'throughput', ...s, ...row.timing, model: row.model, inputSize: row.inputSize, numClasses: row.numClasses, batch: row.batch, mode, images: data.images, labels: data.labels };
          try {
            const r = await (side === 'tlcv' ? ctx.tlcv : ctx.peer).request<ThroughputResult>(job);
            const list = samples[side].get(s.name) ?? [];
            list.push(r.images / (ctx.cfg.cpuTime === true ? r.cpuSeconds : r.seconds));
            samples[side].set(s.name, list);
            if (side === 'tlcv' && s.name === 'auto' && r.plan) plan = r.plan;
          } catch (e) {
            // A setting the library cannot run (PyTorch 1.13 has no bf16 hardtanh backward) is a finding, not a crash.
            errors[key] = e instanceof Error ? e.message : String(e);
          }
        }
      }
      const tlcv = Object.fromEntries([...samples.tlcv].map(([k, v]) => [k, figure(v)]));
      const peer = Object.fromEntries([...samples.peer].map(([k, v]) => [k, figure(v)]));
      const out: ThroughputRow = { model: row.model, inputSize: row.inputSize, batch: row.batch, mode, tlcv, peer, plan, forwardFlopsPerImage: flops, ratios: throughputRatios(tlcv, peer), errors };
      ctx.report.throughput.push(out);
      // For `tlcv models`: images/s by wall time (a CPU-time figure is per busy second, not a speed).
      if (tlcv.auto !== undefined && ctx.cfg.cpuTime !== true) {
        const { cpu } = ctx.report.machine;
        recordMeasuredSpeeds([{ model: row.model, inputSize: row.inputSize, mode, batch: row.batch, imagesPerSecond: tlcv.auto.median, threads: ctx.cfg.threads, cpu, measuredAt: new Date().toISOString() }]);
      }
      const best = out.ratios.peerBestSetting;
      ctx.log(`  ${row.model} ${row.inputSize.join('x')} ${mode}: tlcv default ${num(tlcv.auto)} img/s, PyTorch fp32 ${num(peer.fp32)}, best ${best} ${num(peer[best])}`);
      for (const [k, v] of Object.entries(errors)) ctx.log(`    ${k} failed: ${v}`);
    }
  }
}

export const section: BenchSection<'throughput'> = {
  name: 'throughput',
  describe: "training and inference images/s per model against PyTorch's settings",
  processes: 'shared',
  inPresets: true,
  config: (preset) => throughputRows(preset),
  empty: [],
  run,
  markdown: throughputMarkdown,
  targets: throughputTargets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
