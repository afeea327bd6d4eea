/**
 * tlcv's one cache root: `$TLCV_CACHE`, else `~/.cache/tlcv`. Downloaded datasets go to `data/`,
 * pretrained weights to `weights/`, timed execution plans to `plans/` and what
 * `tlcv models` shows (each model's cost, its speed measured by `tlcv bench`) to `models/` under it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export type CacheKind = 'data' | 'weights' | 'plans' | 'models';

/**
 * @example
 * cacheRoot(); // '/home/me/.cache/tlcv', or $TLCV_CACHE
 */
export function cacheRoot(): string {
  const v = process.env.TLCV_CACHE;
  return v !== undefined && v !== '' ? v : join(homedir(), '.cache', 'tlcv');
}

/**
 * The folder of one kind of cached file.
 *
 * @example
 * join(cacheDir('weights'), 'resnet18-f37072fd.pth');
 */
export function cacheDir(kind: CacheKind): string {
  return join(cacheRoot(), kind);
}
