/**
 * `tlcv serve`: a model behind HTTP, on node:http with busboy for multipart forms.
 * node:http rather than a framework: the server has a few routes, and what matters here (body
 * limits enforced while reading, a bounded queue, timeouts for slow clients, draining on
 * SIGTERM) is node:http's own options (headersTimeout, requestTimeout, keepAliveTimeout) or a
 * few lines each on the plain server, with no plugin layer between them and the socket.
 *
 * Requests are decoded concurrently (sharp works off the main thread) and classified in
 * micro-batches. At most `maxQueue` images are in the server at once, each request's body held
 * to `maxBodyBytes`: beyond that it answers 503 at once, so memory stays bounded under any
 * load, and once the load stops the free memory goes back to the system (idle-memory.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { TlcvError } from '../errors.js';
import { cpuMemoryCache, releaseFreeMemory } from '../tensor/index.js';
import { MicroBatcher } from './batcher.js';
import { IdleMemoryRelease } from './idle-memory.js';
import { describePrediction, type ImagePredictor, type PredictionReport } from './prediction.js';
import { readBodyImages, BodyError } from './request-body.js';
import { CONTENT_TYPES, prepareWebBundle, type WebFile } from './web-bundle.js';

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Images per forward (1: no batching). */
  maxBatch: number;
  /** How long the first request of a batch waits for others. */
  maxWaitMs: number;
  /** 'adaptive': no wait while requests come one at a time; 'fixed': always maxWaitMs (default adaptive). */
  batchWait?: 'adaptive' | 'fixed';
  /** Images in the server at once (reading, decoding, waiting, running); more get 503. */
  maxQueue: number;
  /** The largest request body, every file of a form together. */
  maxBodyBytes: number;
  /** Classes listed in each answer's "top". */
  topK: number;
  /** Files in one multipart form (default 64); more get 413. */
  maxFiles?: number;
  /** A request's headers must arrive within this (default 10 s), the whole request within requestTimeoutMs (default 60 s); else 408 and the connection is closed. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How long a kept-alive connection may sit idle between requests (default 5 s, Node's). */
  keepAliveTimeoutMs?: number;
  /** Free memory goes back to the system after this long without a request (default 10 s; 0: never). */
  idleReleaseMs?: number;
  /** On close(): how long idle kept-alive connections may still bring a request (answered, with Connection: close) before they are closed (default 1 s). */
  drainGraceMs?: number;
  log?: (line: string) => void;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBatch: 16,
  maxWaitMs: 5,
  batchWait: 'adaptive' as 'adaptive' | 'fixed',
  maxQueue: 128,
  maxBodyBytes: 10 * 1024 * 1024,
  topK: 5,
  maxFiles: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleReleaseMs: 10_000,
  drainGraceMs: 1_000,
};

export interface RunningServer {
  url: string;
  port: number;
  /** Batches run so far. */
  readonly batches: number;
  /** Stops accepting, answers what comes on open connections for drainGraceMs and what is in flight, with Connection: close, then closes every connection. */
  close(): Promise<void>;
}

/** The status for an image the decoder refused: not an image at all, or a broken one. */
function imageErrorStatus(e: TlcvError): number {
  return /not an image/.test(e.message) ? 415 : 422;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // A client that went away (or a timeout that cut it off) reads no answer.
  if (res.writableEnded || res.socket === null || res.socket.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(text);
}

const fail = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => send(res, status, { error: message, status }, headers);

/** Every file settled before the first failure is thrown, so no decode outlives the request's place in the queue. */
async function allSettled<T>(work: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** What the server holds, for /healthz: how its memory stands, and how often it was given back. */
function memoryReport(idle: IdleMemoryRelease): Record<string, number> {
  return { rssBytes: process.memoryUsage.rss(), cpuCacheBytes: cpuMemoryCache().cachedBytes, releases: idle.releases };
}

/**
 * Serves a loaded model until `close()` (the model object's `serve` calls it).
 *
 * @example
 * const server = await startServer(await load('runs/digits'), { ...SERVE_DEFAULTS, port: 0 });
 * console.log(`listening on ${server.url}`);
 */
export async function startServer(predictor: ImagePredictor, options: ServeOptions): Promise<RunningServer> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<ServeOptions>;
  const o = { ...SERVE_DEFAULTS, ...given };
  const log = o.log ?? (() => {});
  const batcher = new MicroBatcher((images: Uint8Array[]) => predictor.classify(images), { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, wait: o.batchWait });
  // Idle, the engine's own held memory goes too (onnxruntime's session and arena, libtorch's
  // folded weights), then the CPU cache's blocks and malloc's free pages.
  const idle = new IdleMemoryRelease(o.idleReleaseMs, () => {
    predictor.releaseMemory?.();
    releaseFreeMemory();
  });
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | null = null;
  let page: Promise<Map<string, WebFile>> | null = null;
  /** Answers not yet sent: marked Connection: close when draining begins. */
  const open = new Set<ServerResponse>();
  const pageFiles = (): Promise<Map<string, WebFile>> => {
    // Made on its first request (most servers never serve the page), the wasm compressed off the main thread.
    page ??= prepareWebBundle().then(() => new Map(predictor.webFiles().map((f) => [f.name, f])));
    return page;
  };

  function busy(res: ServerResponse): void {
    fail(res, 503, `busy: ${inFlight} images are being classified (--max-queue ${o.maxQueue}); retry shortly`, { 'Retry-After': '1' });
  }

  async function predict(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (inFlight >= o.maxQueue) {
      req.resume();
      return busy(res);
    }
    let held = 1;
    inFlight += 1;
    idle.begin();
    try {
      const images = await readBodyImages(req, { maxBytes: o.maxBodyBytes, maxFiles: o.maxFiles });
      // A form's every file takes a place in the queue, as that many requests would.
      if (inFlight + images.length - 1 > o.maxQueue) return busy(res);
      inFlight += images.length - 1;
      held = images.length;
      const pixels = await allSettled(images.map((im) => predictor.pixels(im)));
      const probs = await Promise.all(pixels.map((px) => batcher.submit(px)));
      const report: PredictionReport = { classes: predictor.classes, predictions: images.map((im, i) => describePrediction(im.name, probs[i]!, predictor.classes, o.topK, predictor.unknownThreshold ?? null)) };
      send(res, 200, report);
    } catch (e) {
      if (e instanceof BodyError) fail(res, e.status, e.message);
      else if (e instanceof TlcvError && (e.code === 'DATA' || e.code === 'FILE')) fail(res, imageErrorStatus(e), e.message);
      else {
        log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        fail(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      inFlight -= held;
      idle.end();
      if (inFlight === 0 && drained !== null) drained();
    }
  }

  async function staticFile(res: ServerResponse, name: string): Promise<void> {
    const f = (await pageFiles()).get(name);
    if (f === undefined) return fail(res, 404, `no such path: /${name}`);
    if (res.socket === null || res.socket.destroyed) return;
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', 'Content-Length': Buffer.byteLength(f.data) });
    res.end(f.data);
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/predict') {
      if (req.method !== 'POST') return fail(res, 405, 'POST an image to /predict', { Allow: 'POST' });
      void predict(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, `${req.method} is not served here: GET / or /healthz, POST /predict`, { Allow: 'GET, HEAD' });
    if (path === '/healthz') {
      return send(res, 200, { status: closing ? 'closing' : 'ok', model: predictor.name, classes: predictor.classes.length, inFlight, batches: batcher.batches, memory: memoryReport(idle) });
    }
    staticFile(res, path === '/' ? 'index.html' : decodeURIComponent(path.slice(1))).catch((e: unknown) => {
      log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      fail(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    });
  }

  const server: Server = createServer(
    {
      // node:http refuses a headers timeout longer than the request's.
      headersTimeout: Math.min(o.headersTimeoutMs, o.requestTimeoutMs),
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      // Node checks the two timeouts every this often (30 s by default, which would let a slow client hold on that long past them).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, o.headersTimeoutMs / 4)),
    },
    (req, res) => {
      open.add(res);
      res.once('close', () => open.delete(res));
      if (closing) res.setHeader('Connection', 'close');
      try {
        route(req, res);
      } catch (e) {
        log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        if (!res.headersSent) fail(res, 500, 'internal error');
      }
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why: Record<string, string> = {
        EADDRINUSE: `--port ${o.port}: ${o.host}:${o.port} is already in use`,
        EACCES: `--port ${o.port}: not allowed to listen on ${o.host}:${o.port} (ports below 1024 need privileges)`,
        EADDRNOTAVAIL: `--host ${o.host}: not an address of this machine`,
        ENOTFOUND: `--host ${o.host}: no such host name`,
      };
      reject(e.code !== undefined && why[e.code] !== undefined ? new TlcvError('ARGUMENT', why[e.code]!) : e);
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closed: Promise<void> | null = null;

  async function drain(): Promise<void> {
    closing = true;
    for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
    // net.Server's close, not http.Server's: that one also closes every idle kept-alive
    // connection at once, and a client writing its next request on one then reads ECONNRESET.
    // These stay open for drainGraceMs, and each request on them is answered, with Connection: close.
    const allClosed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, o.drainGraceMs));
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    server.closeIdleConnections();
    // Every answer since draining began ends its connection; one that stays open without a request in it is cut off.
    const cutOff = setTimeout(() => server.closeAllConnections(), 5000);
    await allClosed;
    clearTimeout(cutOff);
    idle.dispose();
    // http.Server's close now only stops its timeout checks: the listener is closed already.
    server.close();
  }

  return {
    url: `http://${host}:${port}`,
    port,
    get batches() {
      return batcher.batches;
    },
    close() {
      closed ??= drain();
      return closed;
    },
  };
}
