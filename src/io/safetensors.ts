/**
 * safetensors read and write (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte range
 * (`data_offsets`, relative to the byte buffer after the header), then the bytes. The whole
 * header is checked, as the reference implementation checks it, before any tensor is read:
 * a bad file is a TlcvError('WEIGHTS') naming the file, the tensor, what was expected and
 * what was found, never a crash or a huge allocation.
 */
import { Tensor, tidy, type DType } from '../tensor/index.js';
import { argumentError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { bufferSource, fileSource, weightsError, withSource, type ByteSource } from './byte-source.js';
import { ITEM_SIZE, tensorBytes, tensorFromBytes } from './raw-tensor.js';

/** The reference implementation's cap on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;

const FROM_ST: Record<string, DType> = { F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool' };
const TO_ST = Object.fromEntries(Object.entries(FROM_ST).map(([k, v]) => [v, k])) as Record<DType, string>;
/** Valid in the format, but libtorch 1.13 has no such dtype. */
const UNSUPPORTED = new Set(['U16', 'U32', 'U64', 'F8_E5M2', 'F8_E4M3']);
/** The reference writer's Dtype enum order; it writes larger dtypes first, which keeps every tensor aligned. */
const RUST_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte range within the byte buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In the order of their bytes, which is the writer's order. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** File offset of the byte buffer. */
  dataStart: number;
}

/** Parses and checks the header of a safetensors source; reads nothing past it. */
export function parseSafetensorsHeader(src: ByteSource): SafetensorsHeader {
  const file = src.name;
  if (src.size < 8) throw weightsError(file, `not a safetensors file: ${src.size} bytes, fewer than the 8-byte header length`);
  const n = src.read(0, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw weightsError(file, `safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > src.size) throw weightsError(file, `safetensors header length ${headerLen} runs past the end of the file (${src.size} bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, headerLen));
  } catch {
    throw weightsError(file, 'safetensors header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw weightsError(file, `safetensors header must be a JSON object starting with "{" but starts with ${JSON.stringify(text.slice(0, 16))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw weightsError(file, `safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw weightsError(file, 'safetensors header must be a JSON object');
  const dataStart = 8 + headerLen;
  const bufferSize = src.size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') Object.assign(metadata, checkMetadata(file, info));
    else entries.push(checkEntry(file, name, info, bufferSize));
  }
  // Offset order is the writer's order (JSON.parse would put integer-like names first).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkLayout(file, entries, bufferSize);
  return { entries, metadata, dataStart };
}

function checkMetadata(file: string, info: unknown): Record<string, string> {
  if (info === null) return {};
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw weightsError(file, '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') throw weightsError(file, `__metadata__.${k} must be a string but is ${JSON.stringify(v)}`);
  }
  return info as Record<string, string>;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkEntry(file: string, name: string, info: unknown, bufferSize: number): SafetensorsEntry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw weightsError(file, `${where}: expected {dtype, shape, data_offsets} but found ${JSON.stringify(info)}`);
  const { dtype: st, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof st !== 'string') throw weightsError(file, `${where}: expected a dtype string but found ${JSON.stringify(st)}`);
  const dtype = FROM_ST[st];
  if (dtype === undefined) {
    const why = UNSUPPORTED.has(st) ? 'is valid safetensors but libtorch 1.13 has no such dtype' : 'is not a safetensors dtype';
    throw weightsError(file, `${where}: dtype ${JSON.stringify(st)} ${why} (supported: ${Object.keys(FROM_ST).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw weightsError(file, `${where}: expected a shape of non-negative integers but found ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    throw weightsError(file, `${where}: expected data_offsets [begin, end] with 0 <= begin <= end but found ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  let bytes = BigInt(ITEM_SIZE[dtype]);
  for (const d of shape) bytes *= BigInt(d);
  if (bytes !== BigInt(end - begin)) {
    throw weightsError(file, `${where}: shape [${shape.join(', ')}] of ${st} needs ${bytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > bufferSize) throw weightsError(file, `${where}: data_offsets [${begin}, ${end}] run past the end of the data (${bufferSize} bytes)`);
  return { name, dtype, shape: [...shape], begin, end };
}

/** As the reference reader requires: the tensors (sorted by offset) tile the byte buffer exactly, without overlaps or gaps. */
function checkLayout(file: string, entries: SafetensorsEntry[], bufferSize: number): void {
  let expected = 0;
  let previous: SafetensorsEntry | null = null;
  for (const e of entries) {
    if (e.begin < expected) {
      throw weightsError(file, `tensor ${JSON.stringify(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${JSON.stringify(previous!.name)} [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > expected) throw weightsError(file, `tensor ${JSON.stringify(e.name)}: data_offsets start at ${e.begin} but the previous tensor ends at ${expected} (bytes no tensor owns)`);
    expected = e.end;
    previous = e;
  }
  if (expected !== bufferSize) throw weightsError(file, `the data is ${bufferSize} bytes but the tensors cover ${expected} (${bufferSize - expected} bytes no tensor owns)`);
}

function loadTensors(src: ByteSource, header: SafetensorsHeader): Map<string, Tensor> {
  return tidy(() => {
    const out = new Map<string, Tensor>();
    for (const e of header.entries) {
      const bytes = src.read(header.dataStart + e.begin, e.end - e.begin);
      if (e.dtype === 'bool') {
        const bad = bytes.findIndex((b) => b > 1);
        if (bad >= 0) throw weightsError(src.name, `tensor ${JSON.stringify(e.name)}: BOOL element ${bad} is byte ${bytes[bad]}, not 0 or 1`);
      }
      out.set(e.name, tensorFromBytes(bytes, e.dtype, e.shape));
    }
    return out;
  });
}

/**
 * Reads every tensor of a safetensors file; the caller owns (and disposes) them.
 * @example
 * const sd = readSafetensors('resnet18.safetensors');
 * model.loadStateDict(sd); disposeAll(sd);
 */
export function readSafetensors(path: string): Map<string, Tensor> {
  return withSource(fileSource(path), (src) => loadTensors(src, parseSafetensorsHeader(src)));
}

/** Reads the tensors of safetensors bytes held in memory; `name` labels errors. */
export function parseSafetensors(buf: Uint8Array, name = '<buffer>'): Map<string, Tensor> {
  return withSource(bufferSource(buf, name), (src) => loadTensors(src, parseSafetensorsHeader(src)));
}

/** The `__metadata__` strings of a file, reading only its header. */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  return withSource(fileSource(path), (src) => parseSafetensorsHeader(src).metadata);
}

/** Names, dtypes and shapes of a file's tensors, reading only its header (to check a model before loading). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return withSource(fileSource(path), (src) => parseSafetensorsHeader(src));
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The file's bytes, chunk by chunk, in the reference writer's layout: tensors sorted by dtype (larger first) then name, header padded to 8 bytes. */
export function* safetensorsChunks(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Generator<Uint8Array> {
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of list) {
    if (typeof name !== 'string' || name === '__metadata__') throw argumentError('tensor name', 'a string other than "__metadata__"', name);
    if (!(t instanceof Tensor)) throw argumentError(`tensor ${JSON.stringify(name)}`, 'a Tensor', t);
    if (t.isDisposed) throw argumentError(`tensor ${JSON.stringify(name)}`, 'a live tensor', 'a disposed tensor');
  }
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw argumentError(`metadata.${k}`, 'a string', v);
  }
  const rank = (t: Tensor): number => RUST_ORDER.indexOf(TO_ST[t.dtype]);
  list.sort(([an, a], [bn, b]) => rank(b) - rank(a) || utf8Compare(an, bn));
  // Built by hand: a JS object would move integer-like names ahead of the offset order.
  const fields: string[] = [];
  if (metadata !== undefined && Object.keys(metadata).length > 0) fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, t] of list) {
    const bytes = t.numel * ITEM_SIZE[t.dtype];
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    offset += bytes;
  }
  const json = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = Buffer.alloc(json.length + ((8 - (json.length % 8)) % 8), 0x20);
  json.copy(padded);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  yield len;
  yield padded;
  for (const [, t] of list) yield tensorBytes(t);
}

/**
 * Writes tensors to a safetensors file atomically, one tensor's bytes in memory at a time.
 * @example
 * writeSafetensors('model.safetensors', model.stateDict(), { format: 'pt' });
 */
export function writeSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  const chunks = safetensorsChunks(tensors, metadata);
  // Validate names and tensors before a temp file exists: the generator runs up to its first yield.
  const first = chunks.next();
  writeFileAtomic(path, (function* () {
    if (!first.done) yield first.value;
    yield* chunks;
  })());
}

/** The bytes of a safetensors file in memory (for tests and small payloads). */
export function serializeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): Buffer {
  return Buffer.concat([...safetensorsChunks(tensors, metadata)]);
}
