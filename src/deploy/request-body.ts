/**
 * Reads the images out of a POST body: the raw bytes (one image), or every file of a multipart
 * form (parsed by busboy, a kept dependency: the multipart grammar has enough corners, such as
 * boundaries split across chunks and part headers, that a hand-written parser would be the
 * riskiest code in the server). The whole body is held to the size limit while it is read, the
 * form to a number of files, and a client that goes away mid-body ends the read at once.
 * Problems come back as an HTTP status and one sentence, for the server to answer with.
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

export interface BodyLimits {
  /** The whole body, every file of a form together. */
  maxBytes: number;
  /** Files in one multipart form. */
  maxFiles: number;
}

const tooLarge = (limit: number): BodyError => new BodyError(413, `the body is over the ${limit}-byte limit (--max-body-mb)`);
/** What a read ends with when the client closed its connection (nobody reads the answer). */
const GONE = (): BodyError => new BodyError(400, 'the client closed the connection before the body ended');
const EMPTY = 'the body is empty: send the image bytes, or a multipart form with image files';

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

/** Rejects when the request ends without its body having arrived (the client went away, or a timeout cut it off). */
function onGone(req: IncomingMessage, reject: (e: BodyError) => void): void {
  req.once('close', () => {
    if (!req.complete) reject(GONE());
  });
  req.on('error', () => reject(GONE()));
}

function readRaw(req: IncomingMessage, limit: number): Promise<BodyImage[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    onGone(req, reject);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        discardRest(req, limit);
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on('end', () => (size === 0 ? reject(new BodyError(400, EMPTY)) : resolve([{ bytes: Buffer.concat(chunks, size), name: 'request body' }])));
  });
}

/** busboy's terse parse errors, said so that the sender can fix the form. */
function formError(message: string, boundary: string, partsSeen: number): BodyError {
  const why =
    /Unexpected end of form/i.test(message) && partsSeen === 0
      ? `no part starts with the boundary "--${boundary}" that the Content-Type names`
      : /Unexpected end of form/i.test(message)
        ? `the body ends inside a part: the closing boundary "--${boundary}--" never came`
        : /Malformed part header/i.test(message)
          ? 'a part has malformed headers (each needs "Name: value" lines, at most 80 KiB of them, then a blank line)'
          : /Boundary not found/i.test(message)
            ? 'its Content-Type names no boundary (multipart/form-data; boundary=...)'
            : message;
  return new BodyError(400, `bad multipart form: ${why}`);
}

function readMultipart(req: IncomingMessage, o: BodyLimits): Promise<BodyImage[]> {
  const boundary = /boundary="?([^";]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: o.maxBytes, files: o.maxFiles, fields: 32, parts: o.maxFiles + 32 } });
    } catch (e) {
      reject(formError((e as Error).message, boundary, 0));
      return;
    }
    const files: BodyImage[] = [];
    let total = 0;
    let parts = 0;
    let failed = false;
    const fail = (e: BodyError, drain = true): void => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      if (drain) discardRest(req, o.maxBytes);
      reject(e);
    };
    onGone(req, (e) => fail(e, false));
    parser.on('file', (_field, stream, info) => {
      parts += 1;
      const chunks: Buffer[] = [];
      const file: BodyImage = { bytes: new Uint8Array(0), name: info.filename || `upload ${files.length + 1}` };
      files.push(file);
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > o.maxBytes) fail(tooLarge(o.maxBytes));
        else chunks.push(c);
      });
      stream.on('limit', () => fail(tooLarge(o.maxBytes)));
      stream.on('error', () => {});
      stream.on('end', () => (file.bytes = Buffer.concat(chunks)));
    });
    parser.on('field', () => (parts += 1));
    parser.on('filesLimit', () => fail(new BodyError(413, `the form has more than ${o.maxFiles} files: send at most ${o.maxFiles} images a request`)));
    parser.on('fieldsLimit', () => fail(new BodyError(413, 'the form has more than 32 text fields')));
    parser.on('partsLimit', () => fail(new BodyError(413, `the form has more than ${o.maxFiles + 32} parts`)));
    parser.on('error', (e: Error) => fail(formError(e.message, boundary, parts)));
    parser.on('close', () => {
      if (failed) return;
      const empty = files.find((f) => f.bytes.length === 0);
      if (files.length === 0) reject(new BodyError(400, 'the multipart form has no file: send each image as a file field'));
      else if (empty !== undefined) reject(new BodyError(400, `the file ${empty.name} is empty`));
      else resolve(files);
    });
    req.pipe(parser);
  });
}

/**
 * The images in a request body, at most `maxBytes` bytes in all and `maxFiles` files.
 *
 * @example
 * const images = await readBodyImages(req, { maxBytes: 10 * 1024 * 1024, maxFiles: 64 });
 */
export function readBodyImages(req: IncomingMessage, o: BodyLimits): Promise<BodyImage[]> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > o.maxBytes) {
    discardRest(req, o.maxBytes);
    return Promise.reject(tooLarge(o.maxBytes));
  }
  const type = req.headers['content-type'] ?? '';
  return /^multipart\/form-data/i.test(type) ? readMultipart(req, o) : readRaw(req, o.maxBytes);
}
