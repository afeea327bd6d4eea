/**
 * The run report: one HTML file with inline SVG charts and data: images. It loads nothing
 * and runs no script (its Content-Security-Policy forbids both), so it opens the same
 * offline, from an archive, or attached to an email; hover titles come from SVG <title>.
 */
import { argumentError } from '../errors.js';
import { confusionHeatmap, perClassBars } from './class-charts.js';
import { formatValue, lineChart, type LineSeries } from './line-chart.js';
import { escapeHtml } from './svg.js';
import type { ComparisonTable, EpochRecord, LearningCurve, ReportData, WorstImage } from './types.js';
import { reportPage } from './page.js';

/**
 * Renders a self-contained HTML report. User strings (titles, class names, run info) are escaped.
 *
 * @example
 * const html = renderReport({ title: 'fine-tune on digits', runInfo: { model: 'seed-cnn' }, epochs });
 * writeFileSync('report.html', html);
 */
export function renderReport(data: ReportData): string {
  if (typeof data?.title !== 'string') throw argumentError('data.title', 'string', data?.title);
  const sections = [
    summarySection(data),
    comparisonSection(data.comparison, data.learningCurve),
    trainingSection(data.epochs ?? [], data.lrTrace),
    evaluationSection(data.evaluation),
    worstSection(data),
  ].filter((s) => s !== '');
  return reportPage({ title: data.title, ...(data.subtitle ? { subtitle: data.subtitle } : {}), info: data.runInfo ?? {}, sections });
}

function summarySection(data: ReportData): string {
  const cards: [string, string][] = [];
  const ev = data.evaluation;
  if (ev) {
    const k = ev.classNames.length;
    // Top-5 of five classes or fewer holds every answer: left out.
    cards.push(['accuracy', percent(ev.accuracy)], ...(k > 5 ? [['top-5 accuracy', percent(ev.top5)] as [string, string]] : []));
    cards.push(['balanced accuracy', percent(ev.balancedAccuracy)], ['macro F1', percent(ev.macro.f1)]);
    if (ev.loss !== undefined) cards.push(['loss', formatValue(ev.loss)]);
    if (Number.isFinite(ev.ece)) cards.push(['calibration error (ECE)', percent(ev.ece)]);
    cards.push(['samples evaluated', String(ev.n)]);
  }
  const withVal = (data.epochs ?? []).filter((e) => Number.isFinite(e.valAcc));
  if (withVal.length > 0) {
    const best = withVal.reduce((a, b) => ((b.valAcc as number) > (a.valAcc as number) ? b : a));
    cards.push([`best validation accuracy (epoch ${best.epoch})`, percent(best.valAcc as number)]);
  }
  const seconds = (data.epochs ?? []).reduce((s, e) => s + (Number.isFinite(e.seconds) ? (e.seconds as number) : 0), 0);
  if (seconds > 0) cards.push(['training time', formatDuration(seconds)]);
  if (cards.length === 0) return '';
  const html = cards.map(([k, v]) => `<div class="card"><div class="v">${escapeHtml(v)}</div><div class="k">${escapeHtml(k)}</div></div>`).join('');
  return `<section id="summary"><div class="cards">${html}</div></section>`;
}

function trainingSection(epochs: EpochRecord[], lrTrace: number[] | undefined): string {
  if (epochs.length === 0 && !(lrTrace && lrTrace.length > 0)) {
    return '<section id="training"><h2>Training</h2><p class="empty">No training epochs were recorded for this run.</p></section>';
  }
  const charts: string[] = [];
  if (epochs.length > 0) {
    const hasVal = epochs.some((e) => Number.isFinite(e.valLoss) || Number.isFinite(e.valAcc));
    const hasTarget = epochs.some((e) => Number.isFinite(e.targetAcc));
    const note = hasVal || hasTarget ? undefined : 'no validation data';
    const curve = (name: string, pick: (e: EpochRecord) => number | undefined, dashed = false): LineSeries => ({
      name,
      dashed,
      points: epochs.map((e) => [e.epoch, pick(e) ?? NaN]),
    });
    const loss = [curve('train', (e) => e.trainLoss)];
    const acc = [curve('train', (e) => e.trainAcc)];
    if (hasVal) {
      loss.push(curve('validation', (e) => e.valLoss, true));
      acc.push(curve('validation', (e) => e.valAcc, true));
    }
    if (hasTarget) {
      loss.push(curve('target test', (e) => e.targetLoss, true));
      acc.push(curve('target test', (e) => e.targetAcc, true));
    }
    charts.push(lineChart({ name: 'loss', title: 'Loss', xLabel: 'epoch', yLabel: 'cross-entropy loss', series: loss, includeZero: true, note }));
    charts.push(lineChart({ name: 'accuracy', title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy', series: acc, percent: true, note }));
  }
  if (lrTrace && lrTrace.length > 0) {
    const points = lrTrace.map((lr, i): [number, number] => [i + 1, lr]);
    charts.push(lineChart({ name: 'lr', title: 'Learning rate schedule', xLabel: 'optimizer step', yLabel: 'learning rate', series: [{ name: 'learning rate', points }], includeZero: true, markers: lrTrace.length <= 60 }));
  } else {
    const points = epochs.map((e): [number, number] => [e.epoch, e.lr]);
    charts.push(lineChart({ name: 'lr', title: 'Learning rate schedule', xLabel: 'epoch', yLabel: 'learning rate', series: [{ name: 'learning rate', points }], includeZero: true }));
  }
  return `<section id="training"><h2>Training</h2><div class="charts">${charts.map(box).join('')}</div>${epochTable(epochs)}</section>`;
}

function epochTable(epochs: EpochRecord[]): string {
  if (epochs.length === 0) return '';
  const cell = (v: number | undefined, pct = false) => (v === undefined || !Number.isFinite(v) ? '–' : pct ? percent(v) : formatValue(v));
  const target = epochs.some((e) => Number.isFinite(e.targetAcc));
  const targetCells = (e: EpochRecord): string => (target ? `<td>${cell(e.targetLoss)}</td><td>${cell(e.targetAcc, true)}</td>` : '');
  const rows = epochs
    .map((e) => `<tr><td>${e.epoch}</td><td>${cell(e.trainLoss)}</td><td>${cell(e.trainAcc, true)}</td><td>${cell(e.valLoss)}</td><td>${cell(e.valAcc, true)}</td>${targetCells(e)}<td>${cell(e.lr)}</td><td>${e.seconds === undefined ? '–' : e.seconds.toFixed(1)}</td></tr>`)
    .join('');
  const targetHead = target ? '<th>target loss</th><th>target acc</th>' : '';
  return `<details><summary>Figures per epoch</summary><table><thead><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th>${targetHead}<th>lr</th><th>seconds</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

function evaluationSection(ev: ReportData['evaluation']): string {
  if (!ev) return '';
  const charts = [confusionHeatmap(ev.confusion, ev.classNames), perClassBars(ev.perClass)];
  const rows = ev.perClass
    .map((c) => `<tr><td>${escapeHtml(c.class)}</td><td>${percent(c.precision)}</td><td>${percent(c.recall)}</td><td>${percent(c.f1)}</td><td>${c.support}</td></tr>`)
    .join('');
  const avg = (name: string, s: { precision: number; recall: number; f1: number }) =>
    `<tr class="avg"><td>${name}</td><td>${percent(s.precision)}</td><td>${percent(s.recall)}</td><td>${percent(s.f1)}</td><td>${ev.n}</td></tr>`;
  const table = `<details><summary>Figures per class</summary><table><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>${rows}${avg('macro average', ev.macro)}${avg('weighted average', ev.weighted)}</tbody></table></details>`;
  return `<section id="evaluation"><h2>Evaluation (${ev.n} samples)</h2><div class="charts">${charts.map(box).join('')}</div>${table}</section>`;
}

function worstSection(data: ReportData): string {
  const images = data.worstImages ?? [];
  if (images.length > 0) {
    const figures = images.map((img, i) => worstFigure(img, i)).join('');
    return `<section id="worst"><h2>Most confidently wrong</h2><p class="note">Highest-confidence mistakes first.</p><div class="worst-grid" data-chart="worst">${figures}</div></section>`;
  }
  const worst = data.evaluation?.worst ?? [];
  if (worst.length === 0) return '';
  // Without pictures the mistakes are still worth listing, by index, so they can be looked up.
  const names = data.evaluation?.classNames ?? [];
  const rows = worst
    .map((w) => `<tr><td>${w.index}</td><td>${escapeHtml(names[w.label] ?? w.label)}</td><td>${escapeHtml(names[w.predicted] ?? w.predicted)}</td><td>${percent(w.confidence)}</td></tr>`)
    .join('');
  return `<section id="worst"><h2>Most confidently wrong</h2><table><thead><tr><th>sample</th><th>true</th><th>predicted</th><th>confidence</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function worstFigure(img: WorstImage, i: number): string {
  const alt = `true ${img.label}, predicted ${img.predicted} with ${percent(img.confidence)} confidence`;
  const index = img.index === undefined ? '' : `<span class="index">#${img.index}</span>`;
  return `<figure><img src="${pngDataUri(img.png, i)}" alt="${escapeHtml(alt)}" title="${escapeHtml(alt)}"><figcaption>${index}<span class="true">${escapeHtml(img.label)}</span><span class="wrong">→ ${escapeHtml(img.predicted)}</span><span class="conf">${percent(img.confidence)}</span></figcaption></figure>`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function pngDataUri(png: Uint8Array | string, i: number): string {
  if (png instanceof Uint8Array) return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
  if (typeof png === 'string') {
    const prefixed = /^data:image\/(png|jpeg|gif|webp);base64,(.*)$/s.exec(png);
    const body = (prefixed ? prefixed[2] : png).replace(/\s+/g, '');
    if (BASE64.test(body)) return `data:image/${prefixed ? prefixed[1] : 'png'};base64,${body}`;
  }
  const received = typeof png === 'string' ? `a string starting ${JSON.stringify(png.slice(0, 24))}` : png;
  throw argumentError(`worstImages[${i}].png`, 'PNG bytes or base64 text', received);
}

function comparisonSection(table: ComparisonTable | undefined, curve: LearningCurve | undefined): string {
  if (!table && !curve) return '';
  const parts: string[] = [`<section id="comparison"><h2>${escapeHtml(table?.title ?? 'Comparison')}</h2>`];
  if (table) {
    const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
    const rows = table.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(typeof v === 'number' ? formatValue(v) : v)}</td>`).join('')}</tr>`).join('');
    parts.push(`<table class="comparison"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`);
  }
  if (curve && curve.points.length > 0) {
    const names: string[] = [];
    for (const p of curve.points) for (const k of Object.keys(p.series)) if (!names.includes(k)) names.push(k);
    const sorted = [...curve.points].sort((a, b) => a.x - b.x);
    const series = names.map((name): LineSeries => ({ name, points: sorted.map((p) => [p.x, p.series[name] ?? NaN]) }));
    const yLabel = curve.yLabel ?? 'test accuracy';
    const allFractions = series.every((s) => s.points.every(([, y]) => !Number.isFinite(y) || (y >= 0 && y <= 1)));
    parts.push(`<div class="charts">${box(lineChart({ name: 'learning-curve', title: 'Learning curve', xLabel: curve.xLabel, yLabel, series, logX: true, percent: allFractions, width: 640 }))}</div>`);
  }
  parts.push('</section>');
  return parts.join('');
}

function box(svg: string): string {
  return `<div class="chart-box">${svg}</div>`;
}

function percent(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '–';
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}
