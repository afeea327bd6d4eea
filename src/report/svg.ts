/**
 * The small vocabulary the charts share: escaping, scales with readable ticks, colours, and
 * a legend. Charts are strings of SVG so the report needs no script and no library to draw.
 */

/** Escapes text for HTML and SVG text nodes and for quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Rounds coordinates so the markup stays short; a tenth of a pixel is below what anyone sees. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Colour-blind-safe categorical colours (Okabe and Ito), darkened yellow so it reads on white. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8C7A00', '#000000'];

export interface Scale {
  (v: number): number;
  ticks: number[];
  domain: [number, number];
  format(v: number): string;
}

/**
 * A linear scale from `domain` to `range` whose domain is widened to round tick values.
 * `clamp` keeps the widened domain inside hard bounds (accuracy never passes 1).
 */
export function linearScale(min: number, max: number, range: [number, number], opts: { count?: number; clamp?: [number, number]; percent?: boolean; integer?: boolean } = {}): Scale {
  if (!(max > min)) {
    // One value (or none): give it some room so it sits mid-chart instead of on an axis.
    const pad = min === 0 || !Number.isFinite(min) ? 1 : Math.abs(min) * 0.1;
    min = Number.isFinite(min) ? min - pad : 0;
    max = Number.isFinite(max) ? max + pad : 1;
    if (opts.clamp) {
      min = Math.max(min, opts.clamp[0]);
      max = Math.min(max, opts.clamp[1]);
    }
  }
  let step = niceStep((max - min) / (opts.count ?? 5));
  // Epochs and steps are whole numbers; a tick at 2.5 would label nothing.
  if (opts.integer) step = Math.max(1, step);
  let lo = Math.min(min, round12(Math.floor(min / step + 1e-9) * step));
  let hi = Math.max(max, round12(Math.ceil(max / step - 1e-9) * step));
  if (opts.clamp) {
    lo = Math.max(lo, opts.clamp[0]);
    hi = Math.min(hi, opts.clamp[1]);
  }
  const ticks: number[] = [];
  // Multiples of the step, rounded, so 0.1 + 0.2 does not print as 0.30000000000000004.
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i += 1) ticks.push(round12(i * step));
  const [r0, r1] = range;
  const scale = ((v: number) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0)) as Scale;
  scale.ticks = ticks;
  scale.domain = [lo, hi];
  scale.format = (v) => formatTick(v, step, opts.percent ?? false);
  return scale;
}

/** A log10 scale; ticks are the given values when there are few, else the powers of ten. */
export function logScale(min: number, max: number, range: [number, number], values: number[]): Scale {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  const [r0, r1] = range;
  const pad = (hi - lo) * 0.04;
  const scale = ((v: number) => r0 + ((Math.log10(v) - (lo - pad)) / (hi - lo + 2 * pad)) * (r1 - r0)) as Scale;
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const powers: number[] = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e += 1) powers.push(10 ** e);
  scale.ticks = distinct.length <= 8 ? distinct : powers;
  scale.domain = [min, max];
  scale.format = (v) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))));
  return scale;
}

function round12(v: number): number {
  return Number(v.toPrecision(12));
}

function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const f = rough / power;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
}

/** Formats a tick with as many decimals as its step needs: 0.25, 1e-4, 85%. */
export function formatTick(v: number, step: number, percent = false): string {
  if (percent) {
    const decimals = Math.max(0, -Math.floor(Math.log10(step * 100) + 1e-9));
    return `${(v * 100).toFixed(decimals)}%`;
  }
  if (v === 0) return '0';
  if (Math.abs(step) < 1e-3 || Math.abs(v) >= 1e6) {
    const digits = Math.max(0, Math.floor(Math.log10(Math.abs(v)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9));
    return v.toExponential(Math.min(digits, 3)).replace(/\.?0+e/, 'e').replace('e+', 'e');
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(decimals);
}

/** A rough text width for layout: about 0.6 em a character for the sans-serif fonts browsers pick. */
export function textWidth(text: string, fontSize = 12): number {
  return text.length * fontSize * 0.6;
}

/** Cuts a label to `max` characters with an ellipsis. */
export function clipLabel(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

export interface LegendItem {
  label: string;
  color: string;
  dashed?: boolean;
  /** 'line' draws a stroke sample, 'box' a filled square. */
  kind?: 'line' | 'box';
}

/** A legend laid out left to right from (x, y), wrapping at `maxWidth`; returns markup and its height. */
export function legend(items: LegendItem[], x: number, y: number, maxWidth: number): { svg: string; height: number } {
  let cx = x;
  let cy = y;
  const parts: string[] = ['<g class="legend">'];
  for (const item of items) {
    const w = 26 + textWidth(item.label) + 16;
    if (cx > x && cx + w > x + maxWidth) {
      cx = x;
      cy += 18;
    }
    const sample =
      item.kind === 'box'
        ? `<rect x="${px(cx)}" y="${px(cy - 5)}" width="18" height="10" fill="${item.color}"/>`
        : `<path d="M${px(cx)},${px(cy)}h18" stroke="${item.color}" stroke-width="2.5"${item.dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
    parts.push(`${sample}<text x="${px(cx + 24)}" y="${px(cy + 4)}">${escapeHtml(item.label)}</text>`);
    cx += w;
  }
  parts.push('</g>');
  return { svg: parts.join(''), height: cy - y + 18 };
}

/** Sequential white-to-blue colour for v in [0, 1] (ColorBrewer Blues). */
export function blues(v: number): string {
  const stops = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const t = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const c = stops[i].map((a, j) => Math.round(a + (stops[i + 1][j] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
