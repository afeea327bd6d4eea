/**
 * The pretrained-weights cache (`weights/` under tlcv's cache root): a file already there is
 * used as it is; otherwise it is downloaded and verified (src/io/download.ts). Offline, the
 * error says exactly where to put the file by hand.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import { cacheDir } from '../io/cache.js';
import { DownloadError, downloadVerified as download, sha256Matches } from '../io/download.js';
import type { PretrainedSource } from './classifier.js';
import { getModelConfig } from './registry.js';

export { sha256Matches };

/** `weights/` under the cache root ($TLCV_CACHE, else ~/.cache/tlcv). */
export function defaultWeightsDir(): string {
  return cacheDir('weights');
}

export interface ResolveOptions {
  cacheDir?: string;
  log?: (msg: string) => void;
  /** The fetch to download with (tests pass their own). */
  fetch?: typeof fetch;
}

/**
 * Downloads `src.url` into `dir/src.file`, checking its sha256 on the way; the file appears
 * only once complete and verified. Where no sha256 is published (`sha256: null`), the digest is
 * logged and the file is checked when loaded (its state dict must fit the architecture exactly).
 *
 * @example
 * await downloadVerified(getModelConfig('resnet18').pretrained!, defaultWeightsDir());
 */
export async function downloadVerified(src: PretrainedSource, dir: string, o: Omit<ResolveOptions, 'cacheDir'> = {}): Promise<string> {
  const dest = join(dir, src.file);
  try {
    await download({ urls: [src.url], sha256: src.sha256, dest, ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.log ? { log: o.log } : {}) });
  } catch (e) {
    if (!(e instanceof DownloadError)) throw e;
    throw new TlcvError('WEIGHTS', `could not download pretrained weights (${e.reason}): download it yourself from ${src.url} and put it at ${dest}`);
  }
  o.log?.(`downloaded ${src.url} to ${dest}`);
  return dest;
}

/**
 * The local path of a zoo model's pretrained weights, downloading them into the cache if
 * needed.
 *
 * @example
 * const path = await resolvePretrained('resnet18'); // ~/.cache/tlcv/weights/resnet18-f37072fd.pth
 */
export async function resolvePretrained(name: string, o: ResolveOptions = {}): Promise<string> {
  const config = getModelConfig(name);
  if (config.pretrained === undefined) throw new TlcvError('WEIGHTS', `model "${name}" has no published pretrained weights`);
  const dir = o.cacheDir ?? defaultWeightsDir();
  const dest = join(dir, config.pretrained.file);
  if (existsSync(dest)) return dest;
  o.log?.(`downloading ${name} weights from ${config.pretrained.url}`);
  return downloadVerified(config.pretrained, dir, o);
}
