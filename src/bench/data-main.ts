/**
 * Runs only `tlcv bench`'s data section until the CLI names it (`tlcv bench --only data`):
 *   node dist/src/bench/data-main.js [--quick] [--reps N] [--out bench-data.json]
 * Prints the markdown report and writes the JSON one, as `tlcv bench` does.
 */
import { availableParallelism } from 'node:os';
import { dataBenchConfig, presetConfig } from './config.js';
import { runBench } from './harness.js';
import { renderMarkdown, writeReportJson } from './report.js';

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const preset = args.includes('--quick') ? 'quick' : 'full';
const base = presetConfig(preset, availableParallelism());
const reps = Number(value('--reps') ?? base.reps);
const config = { ...base, reps, throughput: [], optimizer: null, roofline: null, gemm: null, transfer: null, precision: null, memory: null, tfjs: null, serve: null, data: dataBenchConfig(preset) };
const out = value('--out') ?? 'bench-data.json';
const report = await runBench({ config, command: ['node dist/src/bench/data-main.js', ...args].join(' '), log: (l) => console.error(l), verbose: args.includes('--verbose') });
console.log(renderMarkdown(report));
writeReportJson(out, report);
console.error(`wrote ${out}`);
