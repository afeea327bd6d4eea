/**
 * Reads an image out of a POST body: the raw bytes, or the first file of a multipart form
 * (parsed by busboy), never holding more than the size limit. Problems come back as an
 * HTTP status and one sentence, for the server to answer with.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';

export interface BodyImage {
  bytes: Uint8Array;
  name: string;
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

const tooLarge = (limit: number): BodyError => new BodyError(413, `the body is over the ${limit}-byte limit (--max-body-mb)`);

/**
 * Reads and drops the rest of a refused body, so the client (still sending) can read the answer
 * on a live connection; a client that sends on past 8 times the limit is cut off.
 */
function discardRest(req: IncomingMessage, limit: number): void {
  let dropped = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > 8 * limit) req.socket.destroy();
  });
  req.resume();
}
const EMPTY = 'the body is empty: send the image bytes, or a multipart form with one image file';

function readRaw(req: IncomingMessage, limit: number): Promise<BodyImage> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        discardRest(req, limit);
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on('end', () => (size === 0 ? reject(new BodyError(400, EMPTY)) : resolve({ bytes: Buffer.concat(chunks, size), name: 'request body' })));
    req.on('error', reject);
  });
}

function readMultipart(req: IncomingMessage, limit: number): Promise<BodyImage> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: limit, files: 1, fields: 32, parts: 40 } });
    } catch (e) {
      reject(new BodyError(400, `bad multipart form: ${(e as Error).message}`));
      return;
    }
    let found: BodyImage | null = null;
    let failed = false;
    const fail = (e: BodyError): void => {
      failed = true;
      req.unpipe(parser);
      discardRest(req, limit);
      reject(e);
    };
    parser.on('file', (_field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(tooLarge(limit)));
      stream.on('end', () => {
        if (!failed) found = { bytes: Buffer.concat(chunks), name: info.filename || 'upload' };
      });
    });
    parser.on('error', (e: Error) => fail(new BodyError(400, `bad multipart form: ${e.message}`)));
    parser.on('close', () => {
      if (failed) return;
      if (found === null) reject(new BodyError(400, 'the multipart form has no file: send the image as a file field'));
      else if (found.bytes.length === 0) reject(new BodyError(400, `the file ${found.name} is empty`));
      else resolve(found);
    });
    req.pipe(parser);
  });
}

/**
 * The image in a request body, at most `limit` bytes.
 *
 * @example
 * const { bytes, name } = await readBodyImage(req, 10 * 1024 * 1024);
 */
export function readBodyImage(req: IncomingMessage, limit: number): Promise<BodyImage> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    discardRest(req, limit);
    return Promise.reject(tooLarge(limit));
  }
  const type = req.headers['content-type'] ?? '';
  return /^multipart\/form-data/i.test(type) ? readMultipart(req, limit) : readRaw(req, limit);
}
