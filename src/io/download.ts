/**
 * The one verified download: the file is streamed to a temporary name next to its destination,
 * its sha256 computed on the way, and renamed into place only when complete and matching. A
 * failed or mismatched download leaves nothing behind. Mirrors are tried in order.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { TlcvError } from '../errors.js';
import { writeFileAtomicAsync } from './atomic-write.js';

export interface DownloadRequest {
  /** Where to fetch from, tried in order until one succeeds. */
  urls: string[];
  /**
   * Full hex digest, or the leading hex digits published with the file (torchvision's 8); null
   * where none is published: the digest is then only computed and logged, and the caller checks
   * the file some other way.
   */
  sha256: string | null;
  /** Where the verified file goes. */
  dest: string;
  /** Per attempt; none by default. */
  timeoutMs?: number;
  /** The fetch to use (tests pass their own). */
  fetch?: typeof fetch;
  log?: (message: string) => void;
}

/** Why a download failed: the last URL tried and what went wrong there (`HTTP 404`, a checksum, a network error). */
export class DownloadError extends TlcvError {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super('FILE', `${url}: ${reason}`);
    this.name = 'DownloadError';
  }
}

/** Whether a hex digest satisfies an expected sha256 (the full digest, or a published prefix). */
export function sha256Matches(actual: string, expected: string): boolean {
  const e = expected.toLowerCase();
  return e.length === 64 ? actual === e : actual.startsWith(e);
}

async function attempt(url: string, r: DownloadRequest): Promise<void> {
  let response: Response;
  try {
    response = await (r.fetch ?? fetch)(url, r.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(r.timeoutMs) });
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw new DownloadError(url, why);
  }
  if (!response.ok || response.body === null) throw new DownloadError(url, `HTTP ${response.status}`);
  mkdirSync(dirname(r.dest), { recursive: true });
  const hash = createHash('sha256');
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      hash.update(chunk);
      yield chunk;
    }
  }
  try {
    await writeFileAtomicAsync(r.dest, hashed(), {
      check: () => {
        const digest = hash.digest('hex');
        if (r.sha256 === null) r.log?.(`sha256 of ${url}: ${digest} (no official checksum published)`);
        else if (!sha256Matches(digest, r.sha256)) throw new DownloadError(url, `sha256 ${digest} does not match the official ${r.sha256}`);
      },
    });
  } catch (e) {
    // A connection that breaks mid-body surfaces as a plain error from the stream.
    if (e instanceof TlcvError) throw e;
    throw new DownloadError(url, e instanceof Error ? e.message : String(e));
  }
}

/**
 * Downloads one file and checks its sha256; resolves with `dest`. Throws a DownloadError naming
 * the last URL tried and why it failed.
 *
 * @example
 * await downloadVerified({ urls: [url], sha256: 'f37072fd', dest: join(cacheDir('weights'), 'resnet18-f37072fd.pth') });
 */
export async function downloadVerified(r: DownloadRequest): Promise<string> {
  let last: DownloadError | null = null;
  for (const url of r.urls) {
    r.log?.(`downloading ${url}`);
    try {
      await attempt(url, r);
      return r.dest;
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e;
      last = e;
    }
  }
  throw last ?? new DownloadError('(no URL)', 'nothing to download from');
}
