/**
 * A closed-loop HTTP load generator for the serve bench: `clients` concurrent clients, each
 * POSTing an image and sending the next as soon as the answer arrives, over kept-alive
 * connections, for a warm-up and then a measured time. Only loopback addresses are accepted.
 */
import { Agent, request } from 'node:http';
import { TlcvError } from '../../errors.js';

export interface LoadResult {
  clients: number;
  /** Answered requests (one image each) per second over the measured time. */
  imagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers other than 200, and failed connections. */
  errors: number;
}

/** The q-quantile (0..1) of sorted values, by the nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function postOnce(agent: Agent, url: URL, body: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * Runs the load and reports throughput and latency percentiles of the measured part.
 *
 * @example
 * const r = await runLoad('http://127.0.0.1:8080/predict', images, { clients: 8, warmupSeconds: 1, seconds: 5 });
 */
export async function runLoad(target: string, images: Uint8Array[], o: { clients: number; warmupSeconds: number; seconds: number }): Promise<LoadResult> {
  const url = new URL(target);
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname)) throw new TlcvError('ARGUMENT', `the serve bench loads loopback servers only, not ${url.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  // Primed first, untimed: every client's request at once, twice, so the batch sizes this load
  // makes have had their one-off costs (the auto engine times each size's first batch) before
  // the clock starts; a warm-up by time alone can end before a slow first answer comes back.
  for (let round = 0; round < 2; round += 1) await Promise.all(Array.from({ length: o.clients }, () => postOnce(agent, url, images[next++ % images.length]!)));
  const t0 = performance.now();
  const measureFrom = t0 + o.warmupSeconds * 1000;
  const end = measureFrom + o.seconds * 1000;
  let measuredEnd = measureFrom;
  const client = async (): Promise<void> => {
    // Past the window's end too, until it holds an answer for each client: a stall inside it (a
    // batch size timed for the first time) must not leave it empty.
    while (performance.now() < end || latencies.length < o.clients) {
      const body = images[next++ % images.length]!;
      const start = performance.now();
      const status = await postOnce(agent, url, body);
      const done = performance.now();
      // A request counts when it started inside the measured window.
      if (start >= measureFrom) {
        latencies.push(done - start);
        if (status !== 200) errors += 1;
        measuredEnd = Math.max(measuredEnd, done);
      }
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const seconds = (measuredEnd - measureFrom) / 1000;
  const ok = latencies.length - errors;
  return { clients: o.clients, imagesPerSec: seconds > 0 ? ok / seconds : 0, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), requests: latencies.length, errors };
}
