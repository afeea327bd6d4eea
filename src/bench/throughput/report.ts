/**
 * The throughput rows as markdown, and the targets they decide: issue 7's raw throughput (1) and
 * default-plan speed-ups (4), and issue 16's default plan against PyTorch's best, every row.
 */
import type { BenchReport, TargetCheck } from '../core/report.js';
import { num, ratio, ratio3, table } from '../core/format.js';
import type { ThroughputRow } from './types.js';

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
    ratio(t.ratios.autoVsPeerDefault),
    ratio(t.ratios.autoVsPeerBest),
    ratio(t.ratios.fp32VsPeerFp32),
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

export function throughputMarkdown(r: BenchReport): string[] {
  if (r.throughput.length === 0) return [];
  const rate = (r.config as { cpuTime?: boolean }).cpuTime === true ? 'images per CPU second' : 'images/s';
  return [`Training and inference throughput, ${rate} (median of ${(r.config as { reps?: number }).reps ?? '?'}); CL = channels-last\n\n${throughputTable(r)}`];
}

const label = (r: ThroughputRow): string => `${r.model} ${r.inputSize.join('x')} ${r.mode}`;

function findTrain(r: BenchReport, model: string, side: number): ThroughputRow | undefined {
  return r.throughput.find((row) => row.model === model && row.inputSize[1] === side && row.mode === 'train');
}

function worst(rows: ThroughputRow[], pick: (r: ThroughputRow) => number): { row: ThroughputRow; value: number } | null {
  let out: { row: ThroughputRow; value: number } | null = null;
  for (const row of rows) {
    const value = pick(row);
    if (Number.isFinite(value) && (out === null || value < out.value)) out = { row, value };
  }
  return out;
}

export function throughputTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const raw = worst(r.throughput, (row) => row.ratios.fp32VsPeerFp32);
  if (raw) out.push({ name: '1. raw throughput: tlcv fp32 vs PyTorch fp32, worst row', target: '>= 0.95x', measured: `${ratio3(raw.value)} (${label(raw.row)})`, met: raw.value >= 0.95 });
  const speedups: [string, number, number][] = [
    ['seed-cnn', 28, 2.5],
    ['resnet18', 32, 1.7],
    ['resnet18', 224, 2.5],
  ];
  for (const [model, side, want] of speedups) {
    const row = findTrain(r, model, side);
    if (row) {
      // What PyTorch's own best setting gains over its default here: the ceiling for the same kernels.
      const ceiling = (row.peer[row.ratios.peerBestSetting]?.median ?? NaN) / (row.peer.fp32?.median ?? NaN);
      out.push({
        name: `4. default plan vs PyTorch default, ${model} ${side}px train`,
        target: `>= ${want}x`,
        measured: `${ratio3(row.ratios.autoVsPeerDefault)} (PyTorch ${row.ratios.peerBestSetting}: ${ratio3(ceiling)})`,
        met: row.ratios.autoVsPeerDefault >= want,
      });
    }
  }
  const best = worst(r.throughput, (row) => row.ratios.autoVsPeerBest);
  if (best) {
    out.push({
      name: "4. default plan vs PyTorch's best setting, worst row",
      target: '>= 1.0x',
      measured: `${ratio3(best.value)} (${label(best.row)} vs ${best.row.ratios.peerBestSetting})`,
      met: best.value >= 1.0,
    });
  }
  // Issue 16: every row, training and inference, ahead of PyTorch's best setting.
  for (const [mode, want] of [['train', 1.1], ['infer', 1.2]] as const) {
    let low: { value: number; label: string } | null = null;
    for (const row of r.throughput.filter((t) => t.mode === mode)) {
      const v = row.ratios.autoVsPeerBest;
      if (Number.isFinite(v) && (low === null || v < low.value)) low = { value: v, label: `${row.model} ${row.inputSize.join('x')} vs ${row.ratios.peerBestSetting}` };
    }
    if (low) out.push({ name: `16. every ${mode === 'train' ? 'training' : 'inference'} row: tlcv default / PyTorch's best, worst row`, target: `>= ${want}x`, measured: `${ratio3(low.value)} (${low.label})`, met: low.value >= want });
  }
  return out;
}
