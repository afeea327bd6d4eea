/** What a folder holds (every file's bytes and mtime), to prove that a failed command wrote nothing. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export type Snapshot = Map<string, { sha256: string; mtimeMs: number; size: number }>;

export function snapshot(dir: string): Snapshot {
  const out: Snapshot = new Map();
  if (!existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = join(dir, rel, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(join(rel, name));
      else out.set(join(rel, name), { sha256: createHash('sha256').update(readFileSync(p)).digest('hex'), mtimeMs: st.mtimeMs, size: st.size });
    }
  };
  walk('');
  return out;
}

/** The folder holds the same files, with the same bytes and mtimes, and nothing more. */
export function assertUnchanged(dir: string, before: Snapshot, what: string): void {
  assert.deepEqual([...snapshot(dir)], [...before], `${what}: ${dir} changed`);
}
