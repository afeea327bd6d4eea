/**
 * The plan cache: timed choices (numeric plans, inference engines) kept in one JSON file,
 * `plans.json` under the cache root, so that a second run with the same model, batch, threads
 * and CPU takes the same choice without timing again. `TLCV_PLAN_CACHE` names another file,
 * or `off` (every run times again).
 */
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { cacheDir } from '../io/cache.js';

/**
 * TLCV_PLAN_CACHE names the cache file ('off': every run times again); else plans/plans.json under the cache root.
 *
 * @example
 * planCachePath(); // '~/.cache/tlcv/plans/plans.json'
 */
export function planCachePath(): string | null {
  const v = process.env.TLCV_PLAN_CACHE;
  if (v === 'off') return null;
  return v ?? join(cacheDir('plans'), 'plans.json');
}

/**
 * Every entry of the cache file (none when there is no file, or it is damaged: a damaged cache
 * only costs a new timing).
 *
 * @example
 * const entry = readPlanCache(planCachePath())['resnet18|...'];
 */
export function readPlanCache(path: string | null): Record<string, unknown> {
  if (path === null || !existsSync(path)) return {};
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Adds or replaces one entry, keeping the others (an atomic rewrite of the file).
 *
 * @example
 * writePlanCache(planCachePath(), key, { bf16: true, channelsLast: true, device: 'cpu' });
 */
export function writePlanCache(path: string | null, key: string, value: unknown): void {
  if (path === null) return;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, `${JSON.stringify({ ...readPlanCache(path), [key]: value }, null, 1)}\n`);
  } catch {
    // A read-only home must not stop training; the choice is then timed again next run.
  }
}
