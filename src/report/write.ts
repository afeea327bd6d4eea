/** Writing the report next to a run's other outputs. */
import { writeFileAtomic } from '../io/atomic-write.js';
import { renderReport } from './render.js';
import type { ReportData } from './types.js';

/**
 * Renders and writes the report atomically, so a reader never sees half a file.
 *
 * @example
 * writeReport('runs/digits/report.html', data);
 */
export function writeReport(path: string, data: ReportData): void {
  writeFileAtomic(path, renderReport(data));
}
