/** Line charts for the curves of the report: loss, accuracy, learning rate, learning curve. */
import { escapeHtml, legend, linearScale, logScale, px, PALETTE, type Scale } from './svg.js';

export interface LineSeries {
  name: string;
  /** [x, y] pairs; non-finite y values break the line instead of breaking the chart. */
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

export interface LineChartOptions {
  /** The `data-chart` name that tests and readers find the chart by. */
  name: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Values are fractions shown as percentages, kept inside [0, 1]. */
  percent?: boolean;
  /** Start the y axis at zero (losses, learning rates). */
  includeZero?: boolean;
  /** Use a log10 x axis when every x is positive and they span at least a decade. */
  logX?: boolean;
  /** Draw a dot with a hover title on every point (off for long per-step traces). */
  markers?: boolean;
  /** A line under the title, e.g. "no validation data". */
  note?: string;
  width?: number;
  height?: number;
}

/**
 * Renders a line chart as an `<svg data-chart=name>` string, with axes, ticks, labels and a legend.
 *
 * @example
 * lineChart({ name: 'loss', title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'train', points: [[1, 0.9], [2, 0.5]] }] });
 */
export function lineChart(opts: LineChartOptions): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 320;
  const left = 64;
  const right = 20;
  const items = opts.series.map((s, i) => ({ label: s.name, color: s.color ?? PALETTE[i % PALETTE.length], dashed: s.dashed }));
  const leg = legend(items, left, 44, width - left - right);
  const top = 44 + leg.height + 6;
  const bottom = 50;
  const plotBottom = height - bottom;

  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of opts.series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xs.push(x);
      ys.push(y);
    }
  }
  const header = `<text class="chart-title" x="${left}" y="20">${escapeHtml(opts.title)}</text>` + (opts.note ? `<text class="chart-note" x="${left}" y="36">${escapeHtml(opts.note)}</text>` : '');
  const open = `<svg data-chart="${escapeHtml(opts.name)}" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(opts.title)}">`;
  if (xs.length === 0) {
    const msg = `<text class="chart-note" x="${width / 2}" y="${height / 2}" text-anchor="middle">no finite values to plot</text>`;
    return `${open}${header}${msg}</svg>`;
  }

  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const useLog = (opts.logX ?? false) && xMin > 0 && xMax / xMin >= 10;
  const integerX = xs.every(Number.isInteger);
  const x: Scale = useLog ? logScale(xMin, xMax, [left, width - right], xs) : linearScale(xMin, xMax, [left, width - right], { count: 8, integer: integerX });
  let yMin = Math.min(...ys);
  const yMax = Math.max(...ys);
  if (opts.includeZero) yMin = Math.min(0, yMin);
  const y = linearScale(yMin, yMax, [plotBottom, top], { count: 5, percent: opts.percent, clamp: opts.percent ? [0, 1] : undefined });

  const parts: string[] = [open, header];
  parts.push('<g class="grid">');
  for (const t of y.ticks) parts.push(`<path d="M${left},${px(y(t))}H${width - right}"/>`);
  parts.push('</g><g class="axis">');
  parts.push(`<path d="M${left},${top}V${plotBottom}H${width - right}"/>`);
  for (const t of y.ticks) parts.push(`<path d="M${left - 5},${px(y(t))}h5"/><text x="${left - 8}" y="${px(y(t) + 4)}" text-anchor="end">${escapeHtml(y.format(t))}</text>`);
  for (const t of x.ticks) parts.push(`<path d="M${px(x(t))},${plotBottom}v5"/><text x="${px(x(t))}" y="${plotBottom + 18}" text-anchor="middle">${escapeHtml(x.format(t))}</text>`);
  parts.push(`<text class="axis-label" x="${px((left + width - right) / 2)}" y="${height - 10}" text-anchor="middle">${escapeHtml(opts.xLabel)}${useLog ? ' (log scale)' : ''}</text>`);
  parts.push(`<text class="axis-label" transform="translate(14,${px((top + plotBottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(opts.yLabel)}</text>`);
  parts.push('</g>');

  opts.series.forEach((s, i) => {
    const color = items[i].color;
    let d = '';
    let pen = false;
    for (const [px0, py0] of s.points) {
      if (!Number.isFinite(px0) || !Number.isFinite(py0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x(px0))},${px(y(py0))}`;
      pen = true;
    }
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path class="series" d="${d}" stroke="${color}"${dash}><title>${escapeHtml(s.name)}</title></path>`);
    if (opts.markers ?? true) {
      parts.push(`<g fill="${color}">`);
      for (const [px0, py0] of s.points) {
        if (!Number.isFinite(px0) || !Number.isFinite(py0)) continue;
        const shown = opts.percent ? `${(py0 * 100).toFixed(2)}%` : formatValue(py0);
        parts.push(`<circle cx="${px(x(px0))}" cy="${px(y(py0))}" r="3.5"><title>${escapeHtml(`${s.name}, ${opts.xLabel} ${formatValue(px0)}: ${shown}`)}</title></circle>`);
      }
      parts.push('</g>');
    }
  });
  parts.push(leg.svg, '</svg>');
  return parts.join('');
}

/** A short readable number for tooltips and tables: 4 significant digits, no trailing zeros. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}
