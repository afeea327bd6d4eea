import { availableParallelism } from 'node:os';
import { TlcvError } from '../errors.js';
import { dataBenchConfig, distributedBenchConfig, presetConfig, scenarioBenchConfig, renderMarkdown, runBench, writeReportJson, type BenchConfig } from '../bench/index.js';
import { defineCommand } from './command.js';

const SECTIONS = ['throughput', 'optimizer', 'roofline', 'gemm', 'transfer', 'precision', 'memory', 'tfjs', 'data', 'serve', 'distributed', 'fewshot', 'adapt'] as const;

function only(cfg: BenchConfig, keep: string[], quick: boolean): BenchConfig {
  const unknown = keep.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new TlcvError('ARGUMENT', `--only: expected sections from ${SECTIONS.join(',')}, got ${JSON.stringify(unknown.join(','))}`);
  const on = (s: string): boolean => keep.includes(s);
  return {
    ...cfg,
    throughput: on('throughput') ? cfg.throughput : [],
    optimizer: on('optimizer') ? cfg.optimizer : null,
    roofline: on('roofline') ? cfg.roofline : null,
    gemm: on('gemm') ? cfg.gemm : null,
    transfer: on('transfer') ? cfg.transfer : null,
    precision: on('precision') ? cfg.precision : null,
    memory: on('memory') ? cfg.memory : null,
    tfjs: on('tfjs') ? cfg.tfjs : null,
    // Not in the presets: photo decoding runs only when asked for (it generates a folder of JPEGs first).
    data: on('data') ? dataBenchConfig(quick ? 'quick' : 'full') : null,
    serve: on('serve') ? cfg.serve : null,
    distributed: on('distributed') ? distributedBenchConfig(quick ? 'quick' : 'full') : null,
    // Not in the presets either: they train source models and run tlcv commands for many minutes.
    fewshot: on('fewshot') ? scenarioBenchConfig(quick ? 'quick' : 'full').fewshot : null,
    adapt: on('adapt') ? scenarioBenchConfig(quick ? 'quick' : 'full').adapt : null,
  };
}

export const benchCommand = defineCommand({
  name: 'bench',
  usage: 'tlcv bench [--quick] [--threads N] [--out bench.json]',
  flags: {
    quick: { kind: 'bool', help: 'a shorter run (about 2 minutes on 2 cores; batch 16 at 224 px)' },
    threads: { kind: 'int', help: 'CPU threads for each side (default: every core)', min: 1, placeholder: 'N' },
    reps: { kind: 'int', help: 'interleaved repetitions per figure (medians are reported)', min: 1, placeholder: 'N' },
    'cpu-time': { kind: 'bool', help: 'throughput rows from CPU time, not wall time (a busy machine; use with --threads 1)' },
    only: { kind: 'list', help: `sections to run, comma-separated (${SECTIONS.join(',')})`, placeholder: 'LIST' },
    out: { kind: 'string', help: 'where to write the JSON report', default: 'bench.json', placeholder: 'FILE' },
    python: { kind: 'string', help: 'Python with torch and torchvision (default: $TLCV_PEER_PYTHON, else /usr/bin/python3)', placeholder: 'PATH' },
    verbose: { kind: 'bool', help: "show the workers' own output" },
  },
  async run({ flags: f }) {
    let config = presetConfig(f.quick ? 'quick' : 'full', f.threads ?? availableParallelism());
    if (f.reps !== undefined) config = { ...config, reps: f.reps };
    if (f['cpu-time'] === true) config = { ...config, cpuTime: true };
    if (f.only !== undefined) config = only(config, f.only, f.quick === true);
    if (f.reps !== undefined && config.distributed) config = { ...config, distributed: { ...config.distributed, reps: f.reps } };
    const command = process.argv[2] === 'bench' ? ['tlcv', ...process.argv.slice(2)].join(' ') : 'tlcv bench';
    const report = await runBench({ config, command, ...(f.python === undefined ? {} : { python: f.python }), verbose: f.verbose, log: (l) => console.error(l) });
    console.log(renderMarkdown(report));
    writeReportJson(f.out, report);
    console.error(`wrote ${f.out}`);
    return 0;
  },
});
