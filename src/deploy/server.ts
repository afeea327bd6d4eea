/**
 * `tlcv serve`: a model folder behind HTTP, on node:http with busboy for multipart forms.
 * node:http rather than a framework: the server has three routes, and what matters here (body
 * limits enforced while reading, a bounded queue, draining in-flight requests on SIGTERM) is a
 * few lines each on the plain server, with no plugin layer between them and the socket.
 *
 * Requests are decoded concurrently (sharp works off the main thread) and classified in
 * micro-batches through libtorch. At most `maxQueue` predictions are in the server at once,
 * each holding at most `maxBodyBytes`: beyond that it answers 503 at once, so memory stays
 * bounded under any load.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { TlcvError } from '../errors.js';
import { MicroBatcher } from './batcher.js';
import { describePrediction, type ImagePredictor, type PredictionReport } from './prediction.js';
import { readBodyImage, BodyError } from './request-body.js';
import { CONTENT_TYPES, type WebFile } from './web-bundle.js';

export interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Images per libtorch forward (1: no batching). */
  maxBatch: number;
  /** How long the first request of a batch waits for others. */
  maxWaitMs: number;
  /** 'adaptive': no wait while requests come one at a time; 'fixed': always maxWaitMs (default adaptive). */
  batchWait?: 'adaptive' | 'fixed';
  /** Predictions in the server at once (reading, decoding, waiting, running); more get 503. */
  maxQueue: number;
  maxBodyBytes: number;
  /** Classes listed in each answer's "top". */
  topK: number;
  log?: (line: string) => void;
}

export const SERVE_DEFAULTS = { host: '127.0.0.1', port: 8080, maxBatch: 16, maxWaitMs: 5, batchWait: 'adaptive' as 'adaptive' | 'fixed', maxQueue: 128, maxBodyBytes: 10 * 1024 * 1024, topK: 5 };

export interface RunningServer {
  url: string;
  port: number;
  /** Batches run so far. */
  readonly batches: number;
  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(text);
}

/** The status for an image the decoder refused: not an image at all, or a broken one. */
function imageErrorStatus(e: TlcvError): number {
  return /not an image/.test(e.message) ? 415 : 422;
}

/**
 * Serves a loaded model until `close()` (the model object's `serve` calls it).
 *
 * @example
 * const server = await startServer(await load('runs/digits'), { ...SERVE_DEFAULTS, port: 0 });
 * console.log(`listening on ${server.url}`);
 */
export async function startServer(clf: ImagePredictor, o: ServeOptions): Promise<RunningServer> {
  const log = o.log ?? (() => {});
  const batcher = new MicroBatcher((images: Uint8Array[]) => clf.classify(images), { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, wait: o.batchWait ?? 'adaptive' });
  let inFlight = 0;
  let closing = false;
  let idle: (() => void) | null = null;
  let page: Map<string, WebFile> | null = null;
  // Once closing, every answer closes its connection, so the server is done when the last one is.
  const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void =>
    send(res, status, body, closing ? { ...headers, Connection: 'close' } : headers);
  const fail = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void => reply(res, status, { error: message, status }, headers);
  // The page's model.onnx is made on its first request: most servers never serve the page.
  const pageFiles = (): Map<string, WebFile> => {
    page ??= new Map(clf.webFiles().map((f) => [f.name, f]));
    return page;
  };

  async function predict(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (inFlight >= o.maxQueue) {
      req.resume();
      fail(res, 503, `busy: ${inFlight} images are being classified (--max-queue ${o.maxQueue}); retry shortly`, { 'Retry-After': '1' });
      return;
    }
    inFlight += 1;
    try {
      const body = await readBodyImage(req, o.maxBodyBytes);
      const pixels = await clf.pixels(body);
      const probs = await batcher.submit(pixels);
      const report: PredictionReport = { classes: clf.classes, predictions: [describePrediction(body.name, probs, clf.classes, o.topK)] };
      reply(res, 200, report);
    } catch (e) {
      if (e instanceof BodyError) fail(res, e.status, e.message);
      else if (e instanceof TlcvError && (e.code === 'DATA' || e.code === 'FILE')) fail(res, imageErrorStatus(e), e.message);
      else {
        log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        fail(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      inFlight -= 1;
      if (inFlight === 0 && idle !== null) idle();
    }
  }

  function staticFile(res: ServerResponse, name: string): void {
    const f = pageFiles().get(name);
    if (f === undefined) return fail(res, 404, `no such path: /${name}`);
    // Cross-origin isolation lets onnxruntime-web run on several threads.
    const headers = { 'Content-Type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    if ('data' in f) {
      res.writeHead(200, { ...headers, 'Content-Length': Buffer.byteLength(f.data) });
      res.end(f.data);
    } else {
      res.writeHead(200, headers);
      createReadStream(f.path).pipe(res);
    }
  }

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (closing) {
      req.resume();
      return fail(res, 503, 'shutting down', { Connection: 'close' });
    }
    if (path === '/predict') {
      if (req.method !== 'POST') return fail(res, 405, 'POST an image to /predict', { Allow: 'POST' });
      void predict(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, `${req.method} is not served here: GET / or /healthz, POST /predict`, { Allow: 'GET, HEAD' });
    if (path === '/healthz') return reply(res, 200, { status: 'ok', model: clf.name, classes: clf.classes.length, inFlight, batches: batcher.batches });
    staticFile(res, path === '/' ? 'index.html' : decodeURIComponent(path.slice(1)));
  }

  const server: Server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (e) {
      log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) fail(res, 500, 'internal error');
    }
  });
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
  return {
    url: `http://${host}:${port}`,
    port,
    get batches() {
      return batcher.batches;
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      // Answers sent since closing began end their connections; a client that keeps one open
      // without a request in it gets a few seconds, then is cut off.
      const cutOff = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(cutOff);
    },
  };
}
