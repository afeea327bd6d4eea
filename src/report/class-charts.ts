/** Charts of the evaluation by class: the confusion-matrix heat map and the precision/recall/F1 bars. */
import { blues, clipLabel, escapeHtml, legend, linearScale, px, textWidth, PALETTE } from './svg.js';

/**
 * Renders a confusion matrix (rows = true class, columns = predicted) as `<svg data-chart="confusion">`.
 * Colour is the share of the true class's row, so rare classes are as visible as common ones;
 * the count is written in the cell when the cell is big enough to read.
 *
 * @example
 * confusionHeatmap([[5, 1], [0, 4]], ['cat', 'dog']);
 */
export function confusionHeatmap(confusion: readonly (readonly number[])[], classNames: readonly string[]): string {
  const k = confusion.length;
  const cell = Math.max(10, Math.min(40, Math.floor(400 / Math.max(1, k))));
  // Labels shrink with the cells so neighbours do not run into each other.
  const labelFont = Math.min(12, Math.floor(cell / 1.3));
  const labels = classNames.map((n) => clipLabel(n, 16));
  const labelWidth = Math.max(...labels.map((l) => textWidth(l, labelFont)), 30);
  const left = labelWidth + 40;
  const top = 40;
  const grid = cell * k;
  // Column labels are turned 45 degrees, so their height is about 0.7 of their length.
  const bottom = labelWidth * 0.72 + 44;
  const barX = left + grid + 24;
  const width = barX + 70;
  const height = top + grid + bottom;
  const showCounts = cell >= 20;
  const maxDigits = Math.max(1, ...confusion.flat().map((v) => String(v).length));
  const fontSize = Math.min(12, Math.floor((cell - 4) / (0.62 * maxDigits)));

  const parts: string[] = [
    `<svg data-chart="confusion" class="chart" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="Confusion matrix">`,
    `<text class="chart-title" x="${left}" y="20">Confusion matrix</text>`,
    `<text class="chart-note" x="${left}" y="34">colour: share of the true class; numbers: counts</text>`,
  ];
  confusion.forEach((row, t) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const share = rowTotal > 0 ? count / rowTotal : 0;
      const x = left + p * cell;
      const y = top + t * cell;
      const tip = `true ${classNames[t]}, predicted ${classNames[p]}: ${count} (${(share * 100).toFixed(1)}% of ${classNames[t]})`;
      parts.push(`<rect class="cell" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${blues(share)}"><title>${escapeHtml(tip)}</title></rect>`);
      if (showCounts && count > 0) {
        const ink = share > 0.45 ? '#ffffff' : '#1a1a1a';
        parts.push(`<text class="count" x="${px(x + cell / 2)}" y="${px(y + cell / 2 + fontSize * 0.35)}" text-anchor="middle" font-size="${fontSize}" fill="${ink}">${count}</text>`);
      }
    });
  });
  parts.push(`<rect x="${left}" y="${top}" width="${grid}" height="${grid}" fill="none" stroke="#888"/>`);
  parts.push(`<g class="axis" font-size="${labelFont}">`);
  labels.forEach((label, i) => {
    const c = top + i * cell + cell / 2;
    parts.push(`<text x="${px(left - 6)}" y="${px(c + 4)}" text-anchor="end">${escapeHtml(label)}<title>${escapeHtml(classNames[i])}</title></text>`);
    const cx = left + i * cell + cell / 2;
    parts.push(`<text class="turned" transform="translate(${px(cx + 4)},${top + grid + 8}) rotate(-45)" text-anchor="end">${escapeHtml(label)}<title>${escapeHtml(classNames[i])}</title></text>`);
  });
  parts.push(`<text class="axis-label" x="${px(left + grid / 2)}" y="${px(height - 8)}" text-anchor="middle" font-size="12">predicted class</text>`);
  parts.push(`<text class="axis-label" transform="translate(14,${px(top + grid / 2)}) rotate(-90)" text-anchor="middle" font-size="12">true class</text>`);
  parts.push('</g>');

  // The colour key: a vertical bar from 100% of the row (top) down to 0%.
  const steps = 20;
  const barH = Math.max(120, Math.min(grid, 240));
  parts.push('<g class="color-key">');
  for (let i = 0; i < steps; i += 1) {
    parts.push(`<rect x="${barX}" y="${px(top + (i * barH) / steps)}" width="14" height="${px(barH / steps + 0.5)}" fill="${blues(1 - i / (steps - 1))}"/>`);
  }
  parts.push(`<rect x="${barX}" y="${top}" width="14" height="${barH}" fill="none" stroke="#888"/>`);
  for (const v of [0, 0.5, 1]) parts.push(`<text x="${barX + 20}" y="${px(top + (1 - v) * barH + 4)}">${v * 100}%</text>`);
  parts.push('</g></svg>');
  return parts.join('');
}

export interface PerClassRow {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/**
 * Renders per-class precision, recall and F1 as grouped horizontal bars, `<svg data-chart="per-class">`.
 *
 * @example
 * perClassBars([{ class: 'cat', precision: 0.9, recall: 0.8, f1: 0.85, support: 10 }]);
 */
export function perClassBars(rows: readonly PerClassRow[]): string {
  const metrics = ['precision', 'recall', 'f1'] as const;
  const labels = rows.map((r) => clipLabel(r.class, 18));
  const left = Math.max(...labels.map((l) => textWidth(l)), 30) + 20;
  const right = 70;
  const width = Math.max(500, left + 300 + right);
  const bar = 7;
  const group = metrics.length * bar + 10;
  const leg = legend(metrics.map((m, i) => ({ label: m === 'f1' ? 'F1' : m, color: PALETTE[i], kind: 'box' as const })), left, 44, width - left - right);
  const top = 44 + leg.height + 4;
  const plot = group * rows.length;
  const height = top + plot + 46;
  const x = linearScale(0, 1, [left, width - right], { count: 5 });
  const parts: string[] = [
    `<svg data-chart="per-class" class="chart" viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}" role="img" aria-label="Per-class precision, recall and F1">`,
    `<text class="chart-title" x="${px(left)}" y="20">Per-class precision, recall and F1</text>`,
    `<text class="chart-note" x="${px(left)}" y="34">right: support (true samples of the class)</text>`,
    '<g class="grid">',
  ];
  for (const t of x.ticks) parts.push(`<path d="M${px(x(t))},${top}V${top + plot}"/>`);
  parts.push('</g>');
  rows.forEach((r, i) => {
    const y0 = top + i * group + 5;
    metrics.forEach((m, j) => {
      const v = Number.isFinite(r[m]) ? Math.min(1, Math.max(0, r[m])) : 0;
      const tip = `${r.class}: ${m} ${(v * 100).toFixed(1)}%`;
      parts.push(`<rect class="bar" x="${px(left)}" y="${px(y0 + j * bar)}" width="${px(Math.max(0.5, x(v) - left))}" height="${bar - 1}" fill="${PALETTE[j]}"><title>${escapeHtml(tip)}</title></rect>`);
    });
    parts.push(`<text x="${px(left - 6)}" y="${px(y0 + (metrics.length * bar) / 2 + 4)}" text-anchor="end">${escapeHtml(labels[i])}<title>${escapeHtml(r.class)}</title></text>`);
    parts.push(`<text class="chart-note" x="${px(width - right + 8)}" y="${px(y0 + (metrics.length * bar) / 2 + 4)}">n=${r.support}</text>`);
  });
  parts.push('<g class="axis">');
  parts.push(`<path d="M${px(left)},${top}V${top + plot}H${px(width - right)}"/>`);
  for (const t of x.ticks) parts.push(`<path d="M${px(x(t))},${top + plot}v5"/><text x="${px(x(t))}" y="${top + plot + 18}" text-anchor="middle">${(t * 100).toFixed(0)}%</text>`);
  parts.push(`<text class="axis-label" x="${px((left + width - right) / 2)}" y="${px(height - 8)}" text-anchor="middle">score</text>`);
  parts.push('</g>', leg.svg, '</svg>');
  return parts.join('');
}
