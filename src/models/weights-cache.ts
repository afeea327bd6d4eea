/**
 * The pretrained-weights cache: a file already there is used as it is; otherwise it is
 * downloaded, its sha256 checked, and moved into place atomically. Offline, the error says
 * exactly where to put the file by hand.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import type { PretrainedSource } from './classifier.js';
import { getModelConfig } from './registry.js';

/** TLCV_CACHE if set, else ~/.cache/tlcv/weights. */
export function defaultWeightsDir(): string {
  return process.env.TLCV_CACHE ?? join(homedir(), '.cache', 'tlcv', 'weights');
}

export interface ResolveOptions {
  cacheDir?: string;
  log?: (msg: string) => void;
  /** The fetch to download with (tests pass their own). */
  fetch?: typeof fetch;
}

/** Whether a hex digest satisfies an expected sha256 (full, or the 8-hex prefix torchvision publishes). */
export function sha256Matches(actual: string, expected: string): boolean {
  const e = expected.toLowerCase();
  return e.length === 64 ? actual === e : actual.startsWith(e);
}

/**
 * Downloads `src.url` into `dir/src.file`, checking its sha256 on the way; the file appears
 * only once complete and verified.
 */
export async function downloadVerified(src: PretrainedSource, dir: string, o: Omit<ResolveOptions, 'cacheDir'> = {}): Promise<string> {
  const dest = join(dir, src.file);
  const putItThere = `download it yourself from ${src.url} and put it at ${dest}`;
  let response: Response;
  try {
    response = await (o.fetch ?? fetch)(src.url);
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw new TlcvError('WEIGHTS', `could not download pretrained weights (${why}): ${putItThere}`);
  }
  if (!response.ok || response.body === null) {
    throw new TlcvError('WEIGHTS', `could not download pretrained weights (HTTP ${response.status} from ${src.url}): ${putItThere}`);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.part`;
  const hash = createHash('sha256');
  const out = createWriteStream(tmp);
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    const digest = hash.digest('hex');
    if (!sha256Matches(digest, src.sha256)) {
      throw new TlcvError('WEIGHTS', `downloaded ${src.url} but its sha256 is ${digest}, expected ${src.sha256}; the file was discarded: ${putItThere}`);
    }
    renameSync(tmp, dest);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
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
