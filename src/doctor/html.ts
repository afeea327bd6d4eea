/**
 * The doctor's findings as a page of the HTML report: one section per finding, with thumbnails
 * of the files (made here, 96 px, as data: URLs) so that a reader can judge a duplicate or a
 * label at a glance. Self-contained like every tlcv report: no script, font or network.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { escapeHtml, reportPage } from '../report/index.js';
import type { DoctorFile, DoctorReport } from './doctor.js';

/** Thumbnails per section at most: the JSON lists every finding. */
const SHOWN = 24;

async function thumb(dir: string, f: DoctorFile): Promise<string | null> {
  try {
    const png = await sharp(join(dir, f.path), { failOn: 'none' }).rotate().resize(96, 96, { fit: 'inside' }).png().toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    return null;
  }
}

async function figure(dir: string, f: DoctorFile, note: string): Promise<string> {
  const src = await thumb(dir, f);
  const img = src === null ? '<div class="none">no preview</div>' : `<img src="${src}" alt="">`;
  return `<figure>${img}<figcaption><span>${escapeHtml(f.path)}</span><span class="index">${escapeHtml(f.split)} · ${escapeHtml(f.label)}</span>${note ? `<span class="wrong">${escapeHtml(note)}</span>` : ''}</figcaption></figure>`;
}

/** `items` are thunks: only the shown ones decode a thumbnail. */
async function section(title: string, total: number, items: (() => Promise<string>)[], note = ''): Promise<string> {
  if (total === 0) return '';
  const shown = await Promise.all(items.slice(0, SHOWN).map((f) => f()));
  const more = items.length > shown.length ? `<p>${items.length - shown.length} more thumbnails; every finding is in the JSON output (--json).</p>` : '';
  return `<section><h2>${escapeHtml(title)} (${total})</h2>${note ? `<p>${escapeHtml(note)}</p>` : ''}<div class="worst-grid">${shown.join('')}</div>${more}</section>`;
}

function table(r: DoctorReport): string {
  const head = `<tr><th>split</th>${r.classes.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}<th>largest:smallest</th></tr>`;
  const rows = r.balance.map((b) => `<tr><td>${escapeHtml(b.split)}</td>${b.counts.map((n) => `<td>${n}</td>`).join('')}<td${b.imbalanced ? ' class="wrong"' : ''}>${b.ratio.toFixed(1)}</td></tr>`);
  const weights = r.balance.map((b) => `<tr><td>${escapeHtml(b.split)} weights</td>${b.weights.map((w) => `<td>${w.toFixed(2)}</td>`).join('')}<td></td></tr>`);
  return `<section><h2>Class balance</h2><p>Images per class and split; the weights n / (C n_c) would balance each split's loss.</p><table>${head}${rows.join('')}${weights.join('')}</table></section>`;
}

/**
 * The report page for a diagnosis (thumbnails read from the folder again, at most 24 per section).
 *
 * @example
 * writeFileSync('doctor.html', await renderDoctorReport(await diagnose('folder:photos')));
 */
export async function renderDoctorReport(r: DoctorReport): Promise<string> {
  const d = r.dir;
  const pairNote = (files: DoctorFile[], i: number, score: number): string => (i === 0 ? `${r.settings.near} ${r.settings.near === 'phash' ? `${score} bits` : score.toFixed(3)}` : `~ ${files[0]!.path}`);
  const sections = [
    await section('Corrupt or unreadable files', r.corrupt.length, r.corrupt.map((c) => () => figure(d, c, c.why))),
    await section('Copies across splits (leakage)', r.leakage.length, r.leakage.flatMap((l) => l.files.map((f, i) => () => figure(d, f, i === 0 ? `${l.kind} copy` : `${l.kind === 'exact' ? '=' : '~'} ${l.files[0]!.path}`))), 'A test image the model trained on inflates its score.'),
    await section('Exact duplicates', r.exactDuplicates.length, r.exactDuplicates.flatMap((g) => g.map((f, i) => () => figure(d, f, i === 0 ? 'same bytes' : `= ${g[0]!.path}`)))),
    await section('Near duplicates', r.nearDuplicates.length, r.nearDuplicates.flatMap((p) => p.files.map((f, i) => () => figure(d, f, pairNote(p.files, i, p.score))))),
    await section('Likely label errors', r.labelIssues.length, r.labelIssues.map((x) => () => figure(d, x, `looks like ${x.suggested} (p(label) ${x.selfConfidence.toFixed(2)})`)), `Confident learning on out-of-fold probe probabilities, least confident first. ${r.settings.labelErrors?.features === 'pixels' ? 'On pixel and gradient features (no --model): on planted digits a little over half of these were real errors, so check each one; a trained model (--model) gives the probe better features.' : "On the model's features."}`),
    await section('Tiny images', r.sizes.tiny.length, r.sizes.tiny.map((x) => () => figure(d, x, `${x.width}x${x.height}`)), `Median size ${r.sizes.median.join('x')}.`),
    await section('Huge images', r.sizes.huge.length, r.sizes.huge.map((x) => () => figure(d, x, `${x.width}x${x.height}`))),
    await section('Colour modes mixed', r.modes.mixed ? r.modes.minority.length : 0, r.modes.minority.map((x) => () => figure(d, x, x.mode)), Object.entries(r.modes.counts).map(([m, n]) => `${n} ${m}`).join(', ')),
    table(r),
  ].filter((s) => s !== '');
  const info = { data: r.data, images: r.images, classes: r.classes.length, splits: Object.entries(r.splits).map(([s, n]) => `${s} ${n}`).join(', '), findings: r.found, seconds: r.seconds.toFixed(1) };
  return reportPage({ title: `tlcv doctor: ${r.data}`, subtitle: r.found === 0 ? 'No problems found.' : `${r.found} findings.`, info, sections });

}
