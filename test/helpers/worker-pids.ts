/** The worker processes a `tlcv --nproc` launcher started: its children, with their RANK (Linux /proc). */
import { readFileSync, readdirSync } from 'node:fs';

function parentOf(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, ...
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null; // gone meanwhile
  }
}

function rankOf(pid: number): number | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const rank = env.find((v) => v.startsWith('RANK='));
    return rank === undefined ? null : Number(rank.slice(5));
  } catch {
    return null;
  }
}

/** rank -> pid of the launcher's workers (empty until they have started). */
export function workerPids(launcher: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || parentOf(name) !== launcher) continue;
    const rank = rankOf(Number(name));
    if (rank !== null) out.set(rank, Number(name));
  }
  return out;
}
