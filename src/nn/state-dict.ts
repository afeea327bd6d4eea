/** Comparing a state dict against a module's own entries, and describing what does not fit. */
import type { Tensor } from '../tensor/index.js';

export type StateDictInput = Map<string, Tensor> | Record<string, Tensor>;

export interface ShapeMismatch {
  name: string;
  expected: number[];
  found: number[];
}

export interface LoadReport {
  /** Keys the module has but the state dict lacks. */
  missing: string[];
  /** Keys the state dict has but the module lacks. */
  unexpected: string[];
  mismatched: ShapeMismatch[];
}

export function toStateMap(sd: StateDictInput): Map<string, Tensor> {
  return sd instanceof Map ? sd : new Map(Object.entries(sd));
}

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** What loading `source` into a module whose entries are `own` would find; copies nothing. */
export function checkStateDict(own: Map<string, Tensor>, source: Map<string, Tensor>, optional: Set<string> = new Set()): LoadReport {
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
  for (const [name, t] of own) {
    const src = source.get(name);
    if (src === undefined) {
      if (!optional.has(name)) report.missing.push(name);
    } else if (!sameShape(t.shape, src.shape)) {
      report.mismatched.push({ name, expected: t.shape, found: src.shape });
    }
  }
  for (const name of source.keys()) if (!own.has(name)) report.unexpected.push(name);
  return report;
}

const LIST_LIMIT = 12;
function list(items: string[]): string {
  const shown = items.slice(0, LIST_LIMIT).join(', ');
  return items.length > LIST_LIMIT ? `${shown}, ... (${items.length} in all)` : shown;
}
const shapeText = (s: number[]): string => `[${s.join(', ')}]`;

/** One line per kind of problem, naming the keys (and shapes for mismatches). */
export function describeProblems(r: LoadReport): string {
  const lines: string[] = [];
  if (r.missing.length > 0) lines.push(`  missing keys: ${list(r.missing)}`);
  if (r.unexpected.length > 0) lines.push(`  unexpected keys: ${list(r.unexpected)}`);
  if (r.mismatched.length > 0) {
    const items = r.mismatched.map((m) => `${m.name} (model ${shapeText(m.expected)}, file ${shapeText(m.found)})`);
    lines.push(`  shape mismatches: ${list(items)}`);
  }
  return lines.join('\n');
}
