/**
 * The data-spec string that every command and the library use to name data.
 *
 * Grammar:
 * ```
 * SPEC     = SOURCE [ "@" MOD { "," MOD } ]
 * SOURCE   = "fashion-mnist:" ("train" | "test" | "all")
 *          | "mnist:" ("train" | "test" | "all")
 *          | "idx:" IMAGES "," LABELS               (IDX files, raw or .gz)
 *          | "folder:" DIR [ ":" ("train" | "val" | "test") ]
 *          | ("cifar10:" | "cifar100:") [ DIR ":" ] ("train" | "test")
 * MOD      = "classes=" CLASS { ("+" | ",") CLASS }   keep these classes (name, else index; range a-b)
 *          | "remap=" BOOL                          with classes: relabel 0..k-1 (default 1)
 *          | "k=" INT                               exactly INT images per class
 *          | "frac=" FLOAT                          a fraction in (0, 1) of the images
 *          | "stratify=" BOOL                       with frac: per class (default 1)
 *          | "rest"                                 with k or frac: the images NOT chosen
 *          | "n=" INT                               resample INT images with replacement
 *          | "seed=" INT                            seed of k, frac, n and shift (default 0)
 *          | "shift=" SHIFT { ("+" | ",") SHIFT }    a shifted target domain
 * SHIFT    = "rotate:" DEG [ ":" DEG ]              fixed angle, or a random one in [a, b]
 *          | "translate:" F [ ":" F ]               fixed fraction of the size, or random in [a, b]
 *          | "invert" | "noise:" STD                 1 - x; Gaussian noise of STD (x in [0, 1])
 * ```
 * Modifiers apply in this order, whatever order they are written in: classes, then k or frac
 * (and rest), then n, then shift. A bare word after classes= or shift= continues its list.
 *
 * @example
 * parseDataSpec('mnist:all@k=10,seed=1');        // 10 digits per class
 * parseDataSpec('mnist:all@k=10,seed=1,rest');   // the other 9,900: the test set
 * parseDataSpec('folder:photos:train@classes=cat,dog,shift=rotate:30');
 */
import { TlcvError } from '../errors.js';
import type { ShiftOptions } from './shift.js';
import { SPLIT_NAMES, type SplitName } from './dataset.js';

export type DataSource =
  | { kind: 'fashion-mnist' | 'mnist'; split: 'train' | 'test' | 'all' }
  | { kind: 'idx'; images: string; labels: string }
  | { kind: 'folder'; dir: string; split?: SplitName }
  | { kind: 'cifar10' | 'cifar100'; dir?: string; split: 'train' | 'test' };

export interface DataModifiers {
  classes?: (number | string)[];
  remap?: boolean;
  k?: number;
  frac?: number;
  stratify?: boolean;
  rest?: boolean;
  n?: number;
  seed?: number;
  shift?: ShiftOptions;
}

export interface DataSpec {
  text: string;
  source: DataSource;
  modifiers: DataModifiers;
}

export const DATA_KINDS = ['fashion-mnist', 'mnist', 'idx', 'folder', 'cifar10', 'cifar100'] as const;
const MODIFIER_FORMS = 'classes=LIST, remap=0|1, k=N or frac=F (stratify=0|1), rest, n=N, seed=S, shift=rotate:DEG|translate:F|invert|noise:STD';
export const DATA_SPEC_FORMS =
  'fashion-mnist:train|test|all, mnist:train|test|all, idx:IMAGES,LABELS, folder:DIR[:train|val|test], cifar10:[DIR:]train|test, cifar100:[DIR:]train|test; ' +
  `optionally followed by @MODIFIERS (${MODIFIER_FORMS})`;
const MODIFIER_KEYS = ['classes', 'remap', 'k', 'frac', 'stratify', 'rest', 'n', 'seed', 'shift'];

function specError(spec: string, why: string): TlcvError {
  return new TlcvError('DATA_SPEC', `invalid data spec "${spec}": ${why}. Valid forms: ${DATA_SPEC_FORMS}`);
}

function modifierError(spec: string, why: string): TlcvError {
  return new TlcvError('DATA_SPEC', `invalid modifier in data spec "${spec}": ${why}. Modifiers: ${MODIFIER_FORMS}`);
}

function parseSource(spec: string, src: string): DataSource {
  const colon = src.indexOf(':');
  const kind = colon < 0 ? src : src.slice(0, colon);
  const rest = colon < 0 ? '' : src.slice(colon + 1);
  if (!(DATA_KINDS as readonly string[]).includes(kind)) {
    throw new TlcvError('DATA_SPEC', `unknown data kind "${kind}" in "${spec}": expected one of ${DATA_KINDS.join(', ')} (forms: ${DATA_SPEC_FORMS})`);
  }
  if (colon < 0 || rest === '') throw specError(spec, `"${kind}" needs more after the colon (e.g. ${kind === 'idx' ? 'idx:images.gz,labels.gz' : kind === 'folder' ? 'folder:photos' : `${kind}:train`})`);
  switch (kind) {
    case 'mnist':
    case 'fashion-mnist':
      if (rest !== 'train' && rest !== 'test' && rest !== 'all') throw specError(spec, `unknown ${kind} split "${rest}": expected train, test or all`);
      return { kind, split: rest };
    case 'idx': {
      const parts = rest.split(',');
      if (parts.length !== 2 || parts.some((p) => p.trim() === '')) throw specError(spec, 'idx needs two paths separated by one comma: idx:IMAGES,LABELS');
      return { kind, images: parts[0]!, labels: parts[1]! };
    }
    case 'folder': {
      const last = rest.lastIndexOf(':');
      const tail = last < 0 ? '' : rest.slice(last + 1);
      if ((SPLIT_NAMES as readonly string[]).includes(tail)) {
        const dir = rest.slice(0, last);
        if (dir === '') throw specError(spec, 'folder needs a folder before the split: folder:DIR:train');
        return { kind, dir, split: tail as SplitName };
      }
      return { kind, dir: rest };
    }
    default: {
      const last = rest.lastIndexOf(':');
      const split = last < 0 ? rest : rest.slice(last + 1);
      if (split !== 'train' && split !== 'test') throw specError(spec, `${kind} needs a split at the end, train or test (found "${split}")`);
      const dir = last < 0 ? undefined : rest.slice(0, last);
      if (dir === '') throw specError(spec, `${kind} has an empty folder before ":${split}"`);
      return dir === undefined ? { kind: kind as 'cifar10' | 'cifar100', split } : { kind: kind as 'cifar10' | 'cifar100', dir, split };
    }
  }
}

function num(spec: string, key: string, v: string, check: (x: number) => boolean, expected: string): number {
  const x = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(x) || !check(x)) throw modifierError(spec, `${key}=${v}: expected ${expected}`);
  return x;
}

function bool(spec: string, key: string, v: string): boolean {
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw modifierError(spec, `${key}=${v}: expected 1 or 0`);
}

function parseClassItem(spec: string, item: string, out: (number | string)[]): void {
  if (item === '') throw modifierError(spec, 'empty class in classes=');
  const range = /^(\d+)-(\d+)$/.exec(item);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a || b - a > 100000) throw modifierError(spec, `class range ${item}: expected a-b with a <= b`);
    // Kept as text: a class named "3" wins over index 3 when loading (see resolveClasses).
    for (let c = a; c <= b; c += 1) out.push(String(c));
  } else {
    out.push(item);
  }
}

function parseShiftItem(spec: string, item: string, shift: ShiftOptions): void {
  const [name, ...args] = item.split(':');
  const val = (s: string | undefined, what: string, check: (x: number) => boolean = () => true): number => num(spec, `shift ${name}`, s ?? '', check, what);
  const range = (what: string, check?: (x: number) => boolean): number | [number, number] => {
    if (args.length === 1) return val(args[0], what, check);
    if (args.length === 2) {
      const r: [number, number] = [val(args[0], what, check), val(args[1], what, check)];
      if (r[1] < r[0]) throw modifierError(spec, `shift ${item}: the range's low end is above its high end`);
      return r;
    }
    throw modifierError(spec, `shift ${item}: expected ${name}:VALUE or ${name}:LOW:HIGH`);
  };
  switch (name) {
    case 'rotate':
      shift.rotate = range('degrees', (x) => Math.abs(x) <= 360);
      return;
    case 'translate':
      shift.translate = range('a fraction of the image size in [-1, 1]', (x) => Math.abs(x) <= 1);
      return;
    case 'invert':
      if (args.length > 0) throw modifierError(spec, 'shift invert takes no value');
      shift.invert = true;
      return;
    case 'noise':
      if (args.length !== 1) throw modifierError(spec, 'shift noise needs one value: noise:STD');
      shift.noise = val(args[0], 'a standard deviation in [0, 1]', (x) => x >= 0 && x <= 1);
      return;
    default:
      throw modifierError(spec, `unknown shift "${name}": expected rotate:DEG, translate:F, invert or noise:STD`);
  }
}

function parseModifiers(spec: string, text: string): DataModifiers {
  const m: DataModifiers = {};
  let listKey: 'classes' | 'shift' | null = null;
  const seen = new Set<string>();
  for (const token of text.split(',')) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (token === 'rest') {
        m.rest = true;
        listKey = null;
        continue;
      }
      if (listKey === 'classes') parseClassItem(spec, token, m.classes!);
      else if (listKey === 'shift') parseShiftItem(spec, token, m.shift!);
      else throw modifierError(spec, token === '' ? 'empty modifier (two commas, or a trailing comma)' : `modifier "${token}" needs a value (KEY=VALUE; keys: ${MODIFIER_KEYS.join(', ')})`);
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (!MODIFIER_KEYS.includes(key)) throw modifierError(spec, `unknown modifier "${key}": expected one of ${MODIFIER_KEYS.join(', ')}`);
    if (seen.has(key)) throw modifierError(spec, `modifier "${key}" is given twice`);
    seen.add(key);
    listKey = null;
    switch (key) {
      case 'classes':
        m.classes = [];
        for (const item of value.split('+')) parseClassItem(spec, item, m.classes);
        listKey = 'classes';
        break;
      case 'shift':
        m.shift = {};
        for (const item of value.split('+')) parseShiftItem(spec, item, m.shift);
        listKey = 'shift';
        break;
      case 'k':
        m.k = num(spec, key, value, (x) => Number.isInteger(x) && x >= 1, 'a positive integer (images per class)');
        break;
      case 'n':
        m.n = num(spec, key, value, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
        break;
      case 'seed':
        m.seed = num(spec, key, value, (x) => Number.isInteger(x) && x >= 0 && x <= 2 ** 53, 'a non-negative integer');
        break;
      case 'frac':
        m.frac = num(spec, key, value, (x) => x > 0 && x < 1, 'a fraction strictly between 0 and 1');
        break;
      case 'remap':
        m.remap = bool(spec, key, value);
        break;
      case 'stratify':
        m.stratify = bool(spec, key, value);
        break;
      default:
        throw modifierError(spec, `modifier "rest" takes no value`);
    }
  }
  if (m.k !== undefined && m.frac !== undefined) throw modifierError(spec, 'k= and frac= choose a subset in two different ways: give one');
  if (m.rest && m.k === undefined && m.frac === undefined) throw modifierError(spec, '"rest" needs k= or frac= (it means the images those did not choose)');
  if (m.remap !== undefined && m.classes === undefined) throw modifierError(spec, 'remap= needs classes=');
  if (m.stratify !== undefined && m.frac === undefined) throw modifierError(spec, 'stratify= needs frac=');
  if (m.shift !== undefined && Object.keys(m.shift).length === 0) throw modifierError(spec, 'shift= needs at least one shift');
  return m;
}

/** Where the modifiers start: the last "@" followed by something shaped like a modifier. */
function modifierStart(spec: string): number {
  for (let i = spec.lastIndexOf('@'); i >= 0; i = spec.lastIndexOf('@', i - 1)) {
    if (/^[A-Za-z][\w-]*(=|,|$)/.test(spec.slice(i + 1))) return i;
    if (i === 0) break;
  }
  return -1;
}

/**
 * Parses a data spec; throws TlcvError('DATA_SPEC') naming the part that is wrong.
 *
 * @example
 * const s = parseDataSpec('fashion-mnist:train@frac=0.1,seed=3');
 * s.source; // { kind: 'fashion-mnist', split: 'train' }
 * s.modifiers; // { frac: 0.1, seed: 3 }
 */
export function parseDataSpec(spec: string): DataSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw specError(String(spec), 'it is empty');
  const at = modifierStart(spec);
  const sourceText = at < 0 ? spec : spec.slice(0, at);
  const source = parseSource(spec, sourceText);
  const modifiers = at < 0 ? {} : parseModifiers(spec, spec.slice(at + 1));
  return { text: spec, source, modifiers };
}
