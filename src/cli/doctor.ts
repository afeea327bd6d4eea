import { diagnose, renderDoctorReport, type DoctorReport } from '../doctor/index.js';
import { writeFileAtomic } from '../io/index.js';
import { load, modelFeatures } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

function summary(r: DoctorReport): string {
  const lines = [`${r.data}: ${r.images} images in ${Object.entries(r.splits).map(([s, n]) => `${s} ${n}`).join(', ')}; ${r.classes.length} classes`];
  const row = (n: number, what: string, example?: string): void => {
    if (n > 0) lines.push(`  ${String(n).padStart(5)}  ${what}${example ? `, e.g. ${example}` : ''}`);
  };
  row(r.corrupt.length, 'corrupt or unreadable files', r.corrupt[0] && `${r.corrupt[0].path} (${r.corrupt[0].why})`);
  row(r.exactDuplicates.length, 'groups of exact duplicates', r.exactDuplicates[0]?.map((f) => f.path).join(' = '));
  row(r.nearDuplicates.length, `pairs of near duplicates (${r.settings.near})`, r.nearDuplicates[0]?.files.map((f) => f.path).join(' ~ '));
  row(r.leakage.length, 'images in more than one split (leakage)', r.leakage[0]?.files.map((f) => f.path).join(' ~ '));
  for (const b of r.balance.filter((x) => x.imbalanced)) {
    lines.push(`      -  ${b.split}: classes ${b.ratio.toFixed(1)}:1 (largest:smallest)${b.empty.length ? `, no images of ${b.empty.join(', ')}` : ''}; balancing loss weights ${b.weights.map((w) => w.toFixed(2)).join(' ')}`);
  }
  row(r.labelIssues.length, 'likely label errors', r.labelIssues[0] && `${r.labelIssues[0].path} labelled ${r.labelIssues[0].label}, looks like ${r.labelIssues[0].suggested}`);
  row(r.sizes.tiny.length, `tiny images (median ${r.sizes.median.join('x')})`, r.sizes.tiny[0] && `${r.sizes.tiny[0].path} ${r.sizes.tiny[0].width}x${r.sizes.tiny[0].height}`);
  row(r.sizes.huge.length, 'huge images', r.sizes.huge[0] && `${r.sizes.huge[0].path} ${r.sizes.huge[0].width}x${r.sizes.huge[0].height}`);
  if (r.modes.mixed) lines.push(`      -  colour modes mixed: ${Object.entries(r.modes.counts).filter(([, n]) => n > 0).map(([m, n]) => `${n} ${m}`).join(', ')}`);
  for (const s of r.settings.skipped) lines.push(`  skipped ${s}`);
  lines.push(r.found === 0 ? 'no problems found' : `${r.found} findings in ${r.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

export const doctorCommand = defineCommand({
  name: 'doctor',
  usage: 'tlcv doctor --data folder:DIR[:SPLIT] [--model M] [--json] [--out FILE] [--strict]',
  flags: {
    data: { kind: 'string', help: 'image folder to check (all its train/val/test folders when no split is named)', placeholder: 'SPEC', required: true },
    model: { kind: 'string', help: "compare and probe this model's features instead of pixel descriptors (model folder, weights file or zoo name)", placeholder: 'M' },
    json: { kind: 'bool', help: 'print the findings as one JSON object on stdout' },
    out: { kind: 'string', help: 'HTML report with thumbnails', placeholder: 'FILE', default: 'doctor.html' },
    strict: { kind: 'bool', help: 'exit 1 when anything is found' },
    near: { kind: 'string', help: 'near duplicates by: tiny (16x16 gray cosine), phash, model features, or off', choices: ['auto', 'tiny', 'phash', 'model', 'off'], default: 'auto' },
    'near-threshold': { kind: 'number', help: 'cosine at least this (tiny, model) or pHash bits at most this (phash); default per method', placeholder: 'X' },
    'label-errors': { kind: 'bool', help: 'look for likely label errors (out-of-fold linear probe, confident learning)', default: true },
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
      console.log(f.json ? JSON.stringify(report) : `${summary(report)}\nreport: ${f.out}`);
      return f.strict && report.found > 0 ? 1 : 0;
    } finally {
      m?.dispose();
    }
  },
});
