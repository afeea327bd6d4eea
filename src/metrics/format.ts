/** The terminal view of an evaluation: a summary line, a per-class table and the confusion matrix. */
import type { EvaluationResult } from './classification.js';

export interface FormatOptions {
  /** Largest class count for which the confusion matrix is printed. Default 20. */
  maxConfusionClasses?: number;
  /** Widest class name before it is cut with an ellipsis. Default 18. */
  maxNameWidth?: number;
}

/**
 * Formats an evaluation for the terminal.
 *
 * @example
 * console.log(formatEvaluation(acc.result(classNames)));
 */
export function formatEvaluation(result: EvaluationResult, options: FormatOptions = {}): string {
  const maxConfusion = options.maxConfusionClasses ?? 20;
  const nameWidth = options.maxNameWidth ?? 18;
  const k = result.perClass.length;
  const lines: string[] = [];
  // Top-5 of five classes or fewer holds every answer: it says nothing, and is left out.
  const summary = [`n ${result.n}`, `accuracy ${percent(result.accuracy)}`, ...(k > 5 ? [`top-5 ${percent(result.top5)}`] : []), `balanced ${percent(result.balancedAccuracy)}`];
  if (result.loss !== undefined) summary.push(`loss ${result.loss.toFixed(4)}`);
  summary.push(`ECE ${percent(result.ece)}`);
  lines.push(summary.join('   '), '');

  const names = result.perClass.map((c) => clip(c.class, nameWidth));
  const labelWidth = Math.max(12, ...names.map((n) => n.length));
  const supportWidth = Math.max(7, String(result.n).length);
  const header = `${'class'.padEnd(labelWidth)}  ${'precision'.padStart(9)}  ${'recall'.padStart(6)}  ${'f1'.padStart(6)}  ${'support'.padStart(supportWidth)}`;
  lines.push(header, '-'.repeat(header.length));
  const row = (label: string, p: number, r: number, f: number, support: string): string =>
    `${label.padEnd(labelWidth)}  ${p.toFixed(3).padStart(9)}  ${r.toFixed(3).padStart(6)}  ${f.toFixed(3).padStart(6)}  ${support.padStart(supportWidth)}`;
  result.perClass.forEach((c, i) => lines.push(row(names[i], c.precision, c.recall, c.f1, String(c.support))));
  lines.push('-'.repeat(header.length));
  lines.push(row('macro avg', result.macro.precision, result.macro.recall, result.macro.f1, String(result.n)));
  lines.push(row('weighted avg', result.weighted.precision, result.weighted.recall, result.weighted.f1, String(result.n)));

  lines.push('');
  if (k > maxConfusion) {
    lines.push(`confusion matrix not shown for ${k} classes (over ${maxConfusion}); see --json or report.html`);
  } else {
    lines.push(...formatConfusion(result.confusion, names));
  }
  return lines.join('\n');
}

function formatConfusion(confusion: readonly (readonly number[])[], names: readonly string[]): string[] {
  const k = confusion.length;
  // Columns carry the class index only, so the matrix stays narrow; rows carry index and name.
  const cell = Math.max(String(k - 1).length, ...confusion.flat().map((v) => String(v).length)) + 1;
  const indexWidth = String(k - 1).length;
  const rowLabels = names.map((n, i) => `${String(i).padStart(indexWidth)} ${n}`);
  const labelWidth = Math.max('true \\ predicted'.length, ...rowLabels.map((l) => l.length));
  const lines = ['confusion matrix (rows = true class, columns = predicted class)'];
  lines.push('true \\ predicted'.padEnd(labelWidth) + ' ' + confusion.map((_, j) => String(j).padStart(cell)).join(''));
  confusion.forEach((r, i) => lines.push(rowLabels[i].padEnd(labelWidth) + ' ' + r.map((v) => String(v).padStart(cell)).join('')));
  return lines;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function clip(name: string, width: number): string {
  return name.length <= width ? name : `${name.slice(0, width - 1)}…`;
}
