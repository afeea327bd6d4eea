/**
 * PyTorch `.pth` state dicts read without executing pickled code. Two layouts:
 * - the zip format (torch.save since PyTorch 1.6): `<archive>/data.pkl` plus one entry per
 *   storage, `<archive>/data/<key>`;
 * - the legacy format (older checkpoints, many torchvision weights from before 2021): five
 *   pickles in a row (magic number, protocol, system info, the object, the storage keys), then
 *   each storage as an 8-byte element count and its bytes.
 * The pickles go through the restricted unpickler (see pth-pickle.ts).
 */
import type { Tensor } from '../tensor/index.js';
import { fileSource, weightsError, withSource, type ByteSource } from './byte-source.js';
import { unpickleAt } from './pickle.js';
import { loadPickledStateDict, scanPickledStorages, swapBytes, type StorageReader } from './pth-pickle.js';
import { ITEM_SIZE } from './raw-tensor.js';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function findPickle(src: ByteSource, entries: Map<string, ZipEntry>): string {
  const pickles = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw weightsError(src.name, `expected one <archive>/data.pkl in the torch.save archive but found ${pickles.length === 0 ? 'none' : pickles.join(', ')}`);
  }
  return pickles[0]!.slice(0, -'/data.pkl'.length);
}

function isLegacyPickle(src: ByteSource): boolean {
  return src.size >= 2 && src.read(0, 2).equals(Buffer.from([0x80, 0x02]));
}

/** The legacy layout, read whole: no code runs in any of its five pickles. */
function readLegacy(src: ByteSource): Map<string, Tensor> {
  const file = src.name;
  const buf = src.read(0, src.size);
  const plain = { file, resolveGlobal: () => null, persistentLoad: () => { throw weightsError(file, 'unexpected storage reference in a legacy header'); } };
  const magic = unpickleAt(buf, 0, plain);
  if (magic.value !== LEGACY_MAGIC) throw weightsError(file, 'not a torch.save file: no zip archive and no legacy magic number');
  const protocol = unpickleAt(buf, magic.end, plain);
  if (protocol.value !== 1001) throw weightsError(file, `legacy torch.save protocol ${String(protocol.value)} is not supported (expected 1001)`);
  const info = unpickleAt(buf, protocol.end, plain);
  const littleEndian = info.value instanceof Map ? info.value.get('little_endian') : undefined;
  if (typeof littleEndian !== 'boolean') throw weightsError(file, 'legacy torch.save header lacks little_endian');
  const { storages, end } = scanPickledStorages(buf, file, info.end);
  const keys = unpickleAt(buf, end, plain);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw weightsError(file, 'legacy torch.save file lacks its list of storage keys');
  const where = new Map<string, number>();
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const s = storages.get(key);
    if (s === undefined) throw weightsError(file, `legacy storage ${key} is not referred to by any tensor`);
    const count = src.read(at, 8).readBigInt64LE(0);
    if (count !== BigInt(s.numel)) throw weightsError(file, `legacy storage ${key} has ${count} elements but its tensors say ${s.numel}`);
    where.set(key, at + 8);
    at += 8 + s.numel * ITEM_SIZE[s.dtype];
  }
  if (at > src.size) throw weightsError(file, `truncated: the storages need ${at} bytes but the file has ${src.size}`);
  const read: StorageReader = (key, itemSize, numel) => {
    const offset = where.get(key);
    if (offset === undefined) throw weightsError(file, `legacy storage ${key} is missing from the file`);
    const data = src.read(offset, itemSize * numel);
    if (littleEndian) return data;
    const swapped = Buffer.from(data); // the whole file is one buffer: swap a copy
    swapBytes(swapped, itemSize);
    return swapped;
  };
  return loadPickledStateDict(buf, read, file, info.end);
}

/** Storage bytes from `<prefix>/data/<key>`, checked against the size the pickle gives, in host order. */
function zipStorageReader(src: ByteSource, entries: Map<string, ZipEntry>, prefix: string): StorageReader {
  const order = entries.get(`${prefix}/byteorder`);
  const byteorder = order === undefined ? 'little' : readZipEntry(src, order).toString('latin1');
  if (byteorder !== 'little' && byteorder !== 'big') throw weightsError(src.name, `byteorder record is ${JSON.stringify(byteorder)}, expected "little" or "big"`);
  return (key, itemSize, numel) => {
    const name = `${prefix}/data/${key}`;
    const entry = entries.get(name);
    if (entry === undefined) throw weightsError(src.name, `storage ${key} has no archive entry ${name}`);
    if (entry.size !== itemSize * numel) throw weightsError(src.name, `archive entry ${name} holds ${entry.size} bytes but storage ${key} needs ${numel} x ${itemSize} = ${itemSize * numel}`);
    const data = readZipEntry(src, entry);
    if (byteorder === 'big') swapBytes(data, itemSize);
    return data;
  };
}

/**
 * Reads a `torch.save(model.state_dict(), path)` file (zip or legacy layout) without running pickled code; a file
 * whose pickle asks for anything else (os.system, a custom class...) is refused with a
 * TlcvError('WEIGHTS'). The caller owns (and disposes) the returned tensors.
 *
 * @example
 * const sd = readPth('resnet18-f37072fd.pth');
 * model.loadStateDict(sd); disposeAll(sd);
 */
export function readPth(path: string): Map<string, Tensor> {
  return withSource(fileSource(path), (src) => {
    if (isLegacyPickle(src)) return readLegacy(src);
    const entries = readZipDirectory(src);
    const prefix = findPickle(src, entries);
    const pkl = readZipEntry(src, entries.get(`${prefix}/data.pkl`)!);
    return loadPickledStateDict(pkl, zipStorageReader(src, entries, prefix), path);
  });
}
