/** Markdown helpers shared by the sections' parts of the report. */

/** A markdown table. */
export const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** A ratio for the tables: `1.23x` (n/a when not finite). */
export const ratio = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a');

/** A ratio for the targets, with three decimals: 0.947 must not print as the 0.95 it misses. */
export const ratio3 = (v: number): string => `${v.toFixed(3)}x`;

/** A figure for the tables: thousands grouped from 100, one decimal from 10, else two. */
export const num = (v: number | undefined): string => {
  if (v === undefined || !Number.isFinite(v)) return 'n/a';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
};

/** A share as a percentage with two decimals. */
export const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a');

/** Bytes in MiB. */
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
