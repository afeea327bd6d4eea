/**
 * A restricted unpickler: it interprets only the data opcodes that torch.save writes, and
 * calls nothing but the few callables its caller whitelists. Python's pickle runs arbitrary
 * code through GLOBAL + REDUCE (and INST, OBJ, NEWOBJ, EXT*); here any global outside the
 * whitelist, and those opcodes, stop the load before anything runs.
 */
import { weightsError } from './byte-source.js';

/** A global the caller allowed: a callable (REDUCE may call it) or a plain marker (a storage type). */
export interface AllowedGlobal {
  readonly module: string;
  readonly name: string;
  call?: (args: unknown[]) => unknown;
}

export interface UnpickleOptions {
  /** The file, for messages. */
  file: string;
  /** The allowed global, or null to refuse the file. */
  resolveGlobal(module: string, name: string): AllowedGlobal | null;
  /** Resolves a BINPERSID id (torch's storage references). */
  persistentLoad(pid: unknown): unknown;
  /** Called on BUILD (object state); return false to refuse. */
  build?(target: unknown, state: unknown): boolean;
}

/** Opcodes that build objects by calling code, refused outright. */
const CODE_OPCODES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x50: 'PERSID',
};

export function refuse(file: string, what: string): Error {
  return weightsError(file, `refusing to load: pickle uses ${what} which could execute code`);
}

/** Unpickles `data` (protocol 2 to 5 data opcodes), which must hold exactly one pickle. */
export function unpickle(data: Buffer, o: UnpickleOptions): unknown {
  const { value, end } = unpickleAt(data, 0, o);
  if (end !== data.length) throw weightsError(o.file, `pickle ends at byte ${end} of ${data.length}`);
  return value;
}

/** Unpickles the pickle that starts at `start`; `end` is the offset just past its STOP. */
export function unpickleAt(data: Buffer, start: number, o: UnpickleOptions): { value: unknown; end: number } {
  const file = o.file;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = start;
  const need = (n: number): void => {
    if (p + n > data.length) throw weightsError(file, `pickle is truncated at byte ${p} (needed ${n} more)`);
  };
  const u8 = (): number => (need(1), data[p++]!);
  const take = (n: number): Buffer => {
    need(n);
    const b = data.subarray(p, p + n);
    p += n;
    return b;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || stack.length <= (marks[marks.length - 1] ?? -1)) throw weightsError(file, `pickle stack underflow at byte ${p}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw weightsError(file, `pickle stack underflow at byte ${p}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw weightsError(file, `pickle has no MARK before byte ${p}`);
    return stack.splice(m);
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) throw weightsError(file, 'pickle GLOBAL is truncated');
    const s = data.toString('utf8', p, end);
    p = end + 1;
    return s;
  };
  const dictOf = (target: unknown): Map<unknown, unknown> => {
    if (!(target instanceof Map)) throw weightsError(file, `pickle sets items on a ${describe(target)}, not a dict`);
    return target;
  };
  const global = (module: string, name: string): void => {
    const g = o.resolveGlobal(module, name);
    if (g === null) throw refuse(file, `GLOBAL ${module}.${name}`);
    stack.push(g);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw weightsError(file, 'pickle protocol above 5 is not supported');
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw weightsError(file, `pickle ended with ${stack.length} values on the stack`);
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        listOf(top(), file).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        listOf(top(), file).push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        dictOf(top()).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = dictOf(top());
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x58: {
        // BINUNICODE
        const n = take(4).readUInt32LE(0);
        stack.push(take(n).toString('utf8'));
        break;
      }
      case 0x8c: // SHORT_BINUNICODE
        stack.push(take(u8()).toString('utf8'));
        break;
      case 0x8d: {
        // BINUNICODE8
        const n = take(8).readBigUInt64LE(0);
        if (n > BigInt(data.length)) throw weightsError(file, 'pickle string is longer than the file');
        stack.push(take(Number(n)).toString('utf8'));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(take(4).readUInt32LE(0), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : take(4).readUInt32LE(0);
        if (!memo.has(i)) throw weightsError(file, `pickle refers to memo ${i}, which was never stored`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw weightsError(file, 'pickle STACK_GLOBAL without names');
        global(module, name);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        const g = fn as AllowedGlobal;
        if (g === null || typeof g !== 'object' || typeof g.call !== 'function') throw refuse(file, `REDUCE on ${describe(fn)}`);
        if (!Array.isArray(args)) throw weightsError(file, `pickle calls ${g.module}.${g.name} without an argument tuple`);
        stack.push(g.call(args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = top();
        if (o.build === undefined || !o.build(target, state)) throw refuse(file, `BUILD on ${describe(target)}`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(o.persistentLoad(pop()));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(take(2).readUInt16LE(0));
        break;
      case 0x4a: // BININT
        stack.push(take(4).readInt32LE(0));
        break;
      case 0x8a: // LONG1
        stack.push(readLong(take(u8())));
        break;
      case 0x47: // BINFLOAT
        stack.push(take(8).readDoubleBE(0));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      default:
        if (CODE_OPCODES[op] !== undefined) throw refuse(file, `opcode ${CODE_OPCODES[op]}`);
        throw weightsError(file, `refusing to load: pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${p - 1} is not one torch.save writes`);
    }
  }
}

function listOf(v: unknown, file: string): unknown[] {
  if (!Array.isArray(v)) throw weightsError(file, `pickle appends to a ${describe(v)}, not a list`);
  return v;
}

/** A little-endian two's-complement integer: a number when it is exact, else a bigint. */
function readLong(b: Buffer): number | bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i -= 1) v = (v << 8n) | BigInt(b[i]!);
  if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a tuple';
  if (v instanceof Map) return 'a dict';
  if (typeof v === 'object' && 'module' in v && 'name' in v) return `${String((v as AllowedGlobal).module)}.${String((v as AllowedGlobal).name)}`;
  return typeof v;
}
