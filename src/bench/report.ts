/**
 * The bench report as markdown (ready for the README's Performance section) and as
 * bench.json. Figures are medians; ratios are tlcv over PyTorch unless a heading says otherwise.
 */
import { writeFileAtomic } from '../io/index.js';
import type { BenchReport, DataFigures, Figure, ThroughputRow } from './results.js';
import { renderDistributed } from './distributed.js';
import { renderServe } from './serve-report.js';
import { speedMarkdown } from './speed-report.js';
import { scenarioMarkdown } from './scenario-report.js';

const num = (v: number | undefined): string => {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
};
const x = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a');
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function gflops(row: ThroughputRow, f: Figure | undefined): number {
  if (row.forwardFlopsPerImage === null || f === undefined) return NaN;
  // A training step costs about three forward passes (forward, grad input, grad weight).
  return (f.median * row.forwardFlopsPerImage * (row.mode === 'train' ? 3 : 1)) / 1e9;
}

function throughputTable(r: BenchReport): string {
  const cell = (t: ThroughputRow, side: 'tlcv' | 'peer', name: string): string => {
    const f = t[side][name];
    if (f !== undefined) return num(f.median);
    return t.errors[`${side === 'tlcv' ? 'tlcv' : 'PyTorch'} ${name}`] === undefined ? 'n/a' : 'fails';
  };
  const rows = r.throughput.map((t) => [
    t.model,
    `${t.inputSize.join('x')}`,
    String(t.batch),
    t.mode,
    cell(t, 'tlcv', 'auto'),
    t.plan.replace(/ on cpu$/, ''),
    cell(t, 'tlcv', 'fp32'),
    ...['fp32', 'fp32+cl', 'bf16', 'bf16+cl'].map((s) => cell(t, 'peer', s)),
    x(t.ratios.autoVsPeerDefault),
    x(t.ratios.autoVsPeerBest),
    x(t.ratios.fp32VsPeerFp32),
  ]);
  const failures = new Map<string, string[]>();
  for (const t of r.throughput) {
    for (const [k, v] of Object.entries(t.errors)) {
      const why = v.replace(/^\S+ throughput: /, '');
      failures.set(`${k}: ${why}`, [...(failures.get(`${k}: ${why}`) ?? []), `${t.model} ${t.inputSize.join('x')} ${t.mode}`]);
    }
  }
  const notes = [...failures].map(([why, where]) => `\n- fails (${where.join(', ')}): ${why}`).join('');
  return `${table(
    ['model', 'input', 'batch', 'step', 'tlcv default', 'default plan (timed)', 'tlcv fp32', 'PyTorch fp32', 'PT fp32+CL', 'PT bf16', 'PT bf16+CL', 'default / PT default', 'default / PT best', 'fp32 / PT fp32'],
    rows,
  )}${notes}`;
}

function achievedTable(r: BenchReport): string | null {
  const train = r.throughput.filter((t) => t.mode === 'train' && t.forwardFlopsPerImage !== null);
  if (train.length === 0 || r.gemm === null) return null;
  const peakBf16 = r.gemm.tlcv.bfloat16?.best ?? NaN;
  const peakFp32 = r.gemm.tlcv.float32?.best ?? NaN;
  const rows = train.map((t) => {
    const auto = gflops(t, t.tlcv.auto);
    const fp32 = gflops(t, t.tlcv.fp32);
    const best = gflops(t, t.peer[t.ratios.peerBestSetting]);
    return [`${t.model} ${t.inputSize.join('x')}`, num(t.forwardFlopsPerImage! / 1e9 * 3), num(auto), pct(auto / peakBf16), num(fp32), pct(fp32 / peakFp32), `${num(best)} (${t.ratios.peerBestSetting})`];
  });
  return table(['training', 'GFLOP/image', 'tlcv default GFLOP/s', 'of bf16 peak', 'tlcv fp32 GFLOP/s', 'of fp32 peak', 'PyTorch best GFLOP/s'], rows);
}

function dataTables(d: DataFigures): string {
  const out: string[] = [];
  if (d.decode) {
    const dc = d.decode;
    out.push(
      `Photo decoding: ${d.photo}; decode + RandomResizedCrop(${d.size}) + flip + normalise, batch ${d.batch}, images/s (median of ${dc.tlcv.samples.length})\n\n` +
        table(['tlcv (streaming loader)', `torchvision ImageFolder + DataLoader(num_workers=${dc.peerWorkers})`, 'tlcv / torchvision'], [[num(dc.tlcv.median), num(dc.peer.median), x(dc.ratio)]]),
    );
  }
  if (d.train) {
    const t = d.train;
    out.push(
      `resnet18 trained end to end on the same folder at ${d.size} px (random init, 10 classes, AdamW, batch ${t.batch}, ${t.images} images timed after one step), images/s (median of ${t.stream.samples.length}); ` +
        `tlcv: the Learner, plan ${t.tlcvPlan}, streaming with no image cache (every photo decoded as it trains) and on the same photos decoded into memory first; torchvision: fp32, its default\n\n` +
        table(
          ['tlcv streaming', 'tlcv pre-decoded', `torchvision ImageFolder + DataLoader(num_workers=${t.peerWorkers})`, 'tlcv / torchvision', 'streaming / pre-decoded'],
          [[num(t.stream.median), num(t.memory.median), num(t.peer.median), x(t.vsPeer), x(t.vsMemory)]],
        ),
    );
  }
  if (d.memory.length > 0) {
    const rows = d.memory.map((m) => [String(m.photos), m.cacheImages, mb(m.peakRss), m.rssPerEpoch.map(mb).join(', '), m.cacheLimit === null ? 'none' : `${mb(m.cacheBytes)} of ${Number.isFinite(m.cacheLimit) ? mb(m.cacheLimit) : 'unlimited'}`, `${m.seconds.toFixed(0)} s`]);
    out.push(`Streaming photo epochs in a fresh tlcv process (decode and batch only, no training)\n\n${table(['photos', '--cache-images', 'peak RSS', 'RSS per epoch', 'cache', 'time'], rows)}`);
  }
  return out.join('\n\n');
}

/** The whole report as markdown. */
export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const parts: string[] = [];
  parts.push(
    `Command: \`${r.command}\` (${r.seconds.toFixed(0)} s)\n` +
      `Machine: ${m.cpu}, ${m.cores} cores; ${m.threads} threads per side; load average ${m.loadAverageStart.map((v) => v.toFixed(2)).join(' ')} at start, ${m.loadAverageEnd.map((v) => v.toFixed(2)).join(' ')} at end\n` +
      `tlcv default plan: ${m.tlcvAutoPlan ?? 'n/a'}; PyTorch ${m.torch ?? 'n/a'}; OMP_WAIT_POLICY ${m.ompWaitPolicy ?? 'n/a'}; Node ${m.node}`,
  );
  const rate = (r.config as { cpuTime?: boolean }).cpuTime === true ? 'images per CPU second' : 'images/s';
  if (r.throughput.length > 0) parts.push(`Training and inference throughput, ${rate} (median of ${(r.config as { reps?: number }).reps ?? '?'}); CL = channels-last\n\n${throughputTable(r)}`);
  if (r.transfer.length > 0) {
    const rows = r.transfer.map((t) => [
      `${t.workload}, ${t.epochs} epochs, ${t.trainImages} train / ${t.testImages} test`,
      `${num(t.tlcv.seconds)} s${t.tlcv.cacheSeconds !== undefined ? ` (cache ${num(t.tlcv.cacheSeconds)} s)` : ''}`,
      `${num(t.peer.seconds)} s`,
      x(t.timeRatio),
      pct(t.tlcv.testAcc),
      pct(t.peer.testAcc),
    ]);
    parts.push(`The spec's loop on the digits at 32x32x3 (random-init ResNet-18, same weights both sides; PyTorch recomputes the frozen part every epoch, tlcv caches it)\n\n${table(['workload', 'tlcv', 'PyTorch', 'PyTorch / tlcv time', 'tlcv test acc', 'PyTorch test acc'], rows)}`);
  }
  if (r.precision) {
    const p = r.precision;
    parts.push(`Accuracy of the default plan: seed-cnn, ${p.epochs} epochs on ${p.trainImages} digits, tested on ${p.testImages}\n\n${table(['fp32', p.autoPlan, 'delta'], [[pct(p.fp32), pct(p.auto), `${p.deltaPoints.toFixed(2)} points`]])}`);
  }
  if (r.memory) {
    const mm = r.memory;
    parts.push(
      `Memory of a ${mm.epochs}-epoch training run (${mm.model}), one fresh process per side\n\n` +
        table(['', 'tlcv (default plan)', 'PyTorch (fp32)', 'tlcv / PyTorch'], [
          ['peak RSS', mb(mm.tlcv.peakRss), mb(mm.peer.peakRss), x(mm.peakRatio)],
          [`RSS growth, epoch 2 to ${mm.epochs}`, pct(mm.tlcv.growth), pct(mm.peer.growth), ''],
        ]),
    );
  }
  if (r.gemm) {
    const g = r.gemm;
    const rows = Object.keys(g.tlcv).map((d) => [d, num(g.tlcv[d]!.best), num(g.peer[d]!.best), x(g.tlcv[d]!.best / g.peer[d]!.best)]);
    parts.push(`GEMM ${g.n}x${g.n}, GFLOP/s (best of ${g.tlcv.float32?.samples.length ?? '?'})\n\n${table(['dtype', 'tlcv', 'PyTorch', 'tlcv / PyTorch'], rows)}`);
  }
  const achieved = achievedTable(r);
  if (achieved) parts.push(`Achieved GFLOP/s in training (3 forward passes per step), against tlcv's GEMM peaks above\n\n${achieved}`);
  if (r.tfjs) {
    const t = r.tfjs;
    parts.push(
      `Pure-JS TensorFlow.js ${t.version}, seed-cnn training step\n\n` +
        table(['', 'images/s', 'tlcv default / TF.js'], [[`TF.js, batch ${t.batch}, 1 thread`, num(t.imagesPerSec), t.tlcvAutoImagesPerSec === null ? 'n/a' : x(t.tlcvAutoImagesPerSec / t.imagesPerSec)]]),
    );
  }
  if (r.distributed) parts.push(renderDistributed(r.distributed));
  if (r.data) parts.push(dataTables(r.data));
  const serve = renderServe(r);
  if (serve) parts.push(serve);
  parts.push(...speedMarkdown(r));
  parts.push(...scenarioMarkdown(r));
  if (r.targets.length > 0) {
    const rows = r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? '—' : t.met ? 'met' : '**missed**']);
    parts.push(`Targets (issues 7, 11, 13, 14 and 16, where their sections ran)\n\n${table(['target', 'wanted', 'measured', ''], rows)}`);
  }
  const errors = Object.entries(r.errors);
  if (errors.length > 0) parts.push(`Sections that failed:\n${errors.map(([k, v]) => `- ${k}: ${v}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}

/** Writes bench.json atomically. */
export function writeReportJson(path: string, r: BenchReport): void {
  writeFileAtomic(path, `${JSON.stringify(r, null, 2)}\n`);
}
