/** The machine line of the report: CPU model as lscpu names it. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export function cpuModelName(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}
