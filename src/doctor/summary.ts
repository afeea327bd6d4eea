/** The doctor's findings as text. */
import type { DoctorReport } from './doctor.js';

/**
 * The findings in a few lines of text: counts with one example each (what the CLI prints, and
 * what fit can print after a cheap look).
 *
 * @example
 * console.error(formatDoctorReport(await diagnose('folder:photos', CHEAP_DOCTOR)));
 */
export function formatDoctorReport(r: DoctorReport): string {
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
