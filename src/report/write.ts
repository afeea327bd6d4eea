/** Writing the report next to a run's other outputs. */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { TlcvError } from '../errors.js';
import { renderReport } from './render.js';
import type { ReportData } from './types.js';

/**
 * Renders and writes the report atomically, so a reader never sees half a file.
 *
 * @example
 * writeReport('runs/digits/report.html', data);
 */
export function writeReport(path: string, data: ReportData): void {
  const html = renderReport(data);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may never have been made
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new TlcvError('FILE', `Could not write report ${path}: ${reason}`);
  }
}
