/**
 * The issues' targets, checked against a report's measured figures: each section's, in the
 * registry's order. A target whose figures are missing (a section skipped or failed) is left
 * out rather than guessed.
 */
import { SECTIONS } from '../registry.js';
import type { BenchReport, TargetCheck } from './report.js';

/**
 * @example
 * const missed = checkTargets(report).filter((t) => t.met === false);
 */
export function checkTargets(r: BenchReport): TargetCheck[] {
  return SECTIONS.flatMap((s) => s.targets?.(r) ?? []);
}
