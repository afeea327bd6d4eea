import { diagnose, formatDoctorReport, renderDoctorReport } from '../doctor/index.js';
import { writeFileAtomic } from '../io/index.js';
import { load, modelFeatures } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

export const doctorCommand = defineCommand({
  name: 'doctor',
  usage: 'tlcv doctor --data folder:DIR[:SPLIT] [--model M] [--json] [--out FILE] [--strict]',
  flags: {
    data: { kind: 'string', help: 'image folder to check (all its train/val/test folders when no split is named)', placeholder: 'SPEC', required: true },
    model: { kind: 'string', help: "compare and probe this model's features instead of pixel descriptors (model folder, weights file or zoo name)", placeholder: 'M' },
    json: { kind: 'bool', help: 'print the findings as one JSON object on stdout' },
    out: { kind: 'string', help: 'HTML report with thumbnails', placeholder: 'FILE', default: 'doctor.html' },
    strict: { kind: 'bool', help: 'exit 1 when anything is found' },
    near: { kind: 'string', help: 'near duplicates by: tiny (32x32 gray cosine), phash, model features, or off; auto: model with --model, else tiny', choices: ['auto', 'tiny', 'phash', 'model', 'off'], default: 'auto' },
    'near-threshold': { kind: 'number', help: 'cosine at least this (tiny, model) or pHash bits at most this (phash); default per method', placeholder: 'X' },
    'label-errors': { kind: 'bool', help: 'look for likely label errors (out-of-fold linear probe, confident learning; false skips the slowest check)', default: true },
    'max-images': { kind: 'int', help: 'look at most at N images, spread over the folder', min: 1, placeholder: 'N' },
    seed: { kind: 'int', help: "seed of the probe's folds", min: 0, default: 0 },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const log = (line: string): void => console.error(line);
    const m = f.model === undefined ? null : await load(f.model, { log });
    try {
      const report = await diagnose(f.data, {
        near: f.near === 'auto' ? (m ? 'model' : 'tiny') : f.near,
        labelErrors: f['label-errors'],
        seed: f.seed,
        log,
        ...(f['near-threshold'] === undefined ? {} : { nearThreshold: f['near-threshold'] }),
        ...(f['max-images'] === undefined ? {} : { maxImages: f['max-images'] }),
        ...(m ? { features: modelFeatures(m) } : {}),
      });
      writeFileAtomic(f.out, await renderDoctorReport(report));
      console.log(f.json ? JSON.stringify(report) : `${formatDoctorReport(report)}\nreport: ${f.out}`);
      return f.strict && report.found > 0 ? 1 : 0;
    } finally {
      m?.dispose();
    }
  },
});
