import { availableParallelism } from 'node:os';
import { TlcvError } from '../errors.js';
import { listModels } from '../models/index.js';
import { SECTIONS, benchConfig, renderMarkdown, runBench, throughputRows, writeReportJson } from '../bench/index.js';
import { defineCommand } from './command.js';

// One line per section for --help, its name padded to a column; * marks the presets' sections.
const width = Math.max(...SECTIONS.map((s) => s.name.length)) + 1;
const sectionList = SECTIONS.map((s) => `\n${' '.repeat(37)}${`${s.name}${s.inPresets ? '*' : ''}`.padEnd(width)}  ${s.describe}`).join('');

export const benchCommand = defineCommand({
  name: 'bench',
  usage: 'tlcv bench [--quick] [--only LIST] [--models LIST] [--threads N] [--out bench.json]',
  flags: {
    quick: { kind: 'bool', help: 'a shorter run (about 2 minutes on 2 cores; batch 16 at 224 px)' },
    threads: { kind: 'int', help: 'CPU threads for each side (default: every core)', min: 1, placeholder: 'N' },
    reps: { kind: 'int', help: 'interleaved repetitions per figure (medians are reported)', min: 1, placeholder: 'N' },
    'cpu-time': { kind: 'bool', help: 'throughput rows from CPU time, not wall time (a busy machine; use with --threads 1)' },
    only: { kind: 'list', help: `sections to run, comma-separated (without it: those marked *)${sectionList}`, placeholder: 'LIST' },
    models: { kind: 'list', help: "the throughput section's rows for these models only, the newer backbones at 224 px included (efficientnet_b0, mobilenet_v3_large, convnext_tiny, vit_b_16, dinov2_vits14); tlcv models shows what they measure", placeholder: 'LIST' },
    out: { kind: 'string', help: 'where to write the JSON report', default: 'bench.json', placeholder: 'FILE' },
    python: { kind: 'string', help: 'Python with torch and torchvision (default: $TLCV_PEER_PYTHON, else /usr/bin/python3)', placeholder: 'PATH' },
    verbose: { kind: 'bool', help: "show the workers' own output" },
  },
  async run({ flags: f }) {
    const config = benchConfig({ preset: f.quick ? 'quick' : 'full', threads: f.threads ?? availableParallelism(), reps: f.reps, cpuTime: f['cpu-time'], only: f.only });
    if (f.models !== undefined) {
      const unknown = f.models.filter((m) => !listModels().includes(m));
      if (unknown.length > 0) throw new TlcvError('ARGUMENT', `--models: expected zoo models (tlcv models lists them), got ${JSON.stringify(unknown.join(','))}`);
      if (f.only !== undefined && !f.only.includes('throughput')) throw new TlcvError('ARGUMENT', '--models chooses throughput rows: add throughput to --only');
      config.throughput = throughputRows(f.quick ? 'quick' : 'full', f.models);
      if (config.throughput.length === 0) throw new TlcvError('ARGUMENT', `--models: the throughput section has no row for ${f.models.join(', ')}`);
    }
    const command = process.argv[2] === 'bench' ? ['tlcv', ...process.argv.slice(2)].join(' ') : 'tlcv bench';
    const report = await runBench({ config, command, ...(f.python === undefined ? {} : { python: f.python }), verbose: f.verbose, log: (l) => console.error(l) });
    console.log(renderMarkdown(report));
    writeReportJson(f.out, report);
    console.error(`wrote ${f.out}`);
    return 0;
  },
});
