/**
 * A small strict flag parser: unknown flags and bad values are user errors (exit 2), reported
 * with the flag's name, what was expected and what was found. A command's flag specs type its
 * parsed flags (a `choices` flag is the union of its choices, a flag with a default is never
 * undefined), so no command casts a flag.
 */
import { TlcvError } from '../errors.js';

export type FlagKind = 'string' | 'int' | 'number' | 'bool' | 'list';

export interface FlagSpec {
  readonly kind: FlagKind;
  readonly help: string;
  readonly default?: string | number | boolean;
  /** Allowed values for string flags. */
  readonly choices?: readonly string[];
  readonly min?: number;
  /** Strictly greater than min (for lr > 0). */
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  readonly placeholder?: string;
  /** Missing is a user error naming the flag. */
  readonly required?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** The value a flag of this spec parses to. */
export type FlagValueOf<S extends FlagSpec> = S['kind'] extends 'int' | 'number'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S extends { choices: readonly (infer C extends string)[] }
        ? C
        : string;

/** Parsed flags: present for a flag with a default, a required one or a bool (false when absent); else possibly undefined. */
export type FlagValues<S extends FlagSpecs> = {
  -readonly [K in keyof S]: S[K] extends { default: string | number | boolean } | { required: true } | { kind: 'bool' } ? FlagValueOf<S[K]> : FlagValueOf<S[K]> | undefined;
};

export interface Parsed<S extends FlagSpecs> {
  flags: FlagValues<S>;
  positional: string[];
}

type Value = string | number | boolean | string[];

function bad(flag: string, expected: string, found: string): TlcvError {
  return new TlcvError('ARGUMENT', `--${flag}: expected ${expected}, got ${JSON.stringify(found)}`);
}

function convert(name: string, spec: FlagSpec, raw: string): Value {
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
        throw bad(name, spec.kind === 'int' ? 'an integer' : 'a number', raw);
      }
      const what = spec.kind === 'int' ? 'an integer' : 'a number';
      if (spec.min !== undefined && (spec.exclusiveMin ? v <= spec.min : v < spec.min)) {
        throw bad(name, `${what} ${spec.exclusiveMin ? '>' : '>='} ${spec.min}`, raw);
      }
      if (spec.max !== undefined && v > spec.max) throw bad(name, `${what} <= ${spec.max}`, raw);
      return v;
    }
    case 'bool':
      if (['true', '1', 'yes', 'on'].includes(raw)) return true;
      if (['false', '0', 'no', 'off'].includes(raw)) return false;
      throw bad(name, 'true or false', raw);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    default:
      if (spec.choices && !spec.choices.includes(raw)) throw bad(name, `one of ${spec.choices.join('|')}`, raw);
      return raw;
  }
}

/**
 * Parses argv against specs; `--flag value`, `--flag=value`, and bare `--bool` forms.
 *
 * @example
 * const { flags } = parseArgs(['--epochs', '3'], { epochs: { kind: 'int', help: 'epochs', default: 10 } } as const, 'pretrain');
 * flags.epochs; // 3, typed number
 */
export function parseArgs<const S extends FlagSpecs>(argv: string[], specs: S, command: string): Parsed<S> {
  const flags: Record<string, Value | undefined> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      if (arg !== '--') positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      throw new TlcvError('ARGUMENT', `unknown flag --${name} for \`tlcv ${command}\` (see tlcv ${command} --help)`);
    }
    let raw: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (raw === undefined) {
      const next = argv[i + 1];
      if (spec.kind === 'bool' && (next === undefined || !['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(next))) {
        raw = 'true';
      } else {
        // A negative number is a value, not a flag (--epochs -1 must reach validation).
        if (next === undefined || (next.startsWith('--') && !/^--?\d/.test(next))) {
          throw new TlcvError('ARGUMENT', `--${name}: expected a value${spec.placeholder ? ` (${spec.placeholder})` : ''} but none was given`);
        }
        raw = next;
        i += 1;
      }
    }
    flags[name] = convert(name, spec, raw);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.kind === 'list' ? convert(name, spec, String(spec.default)) : spec.default;
    if (flags[name] === undefined && spec.kind === 'bool') flags[name] = false;
    const v = flags[name];
    if (spec.required === true && (v === undefined || v === '')) throw new TlcvError('ARGUMENT', `--${name} is required (see tlcv ${command} --help)`);
  }
  return { flags: flags as FlagValues<S>, positional };
}

/**
 * A command's --help text: usage, summary, and one line per flag with its default.
 *
 * @example
 * console.log(formatHelp('tlcv models', 'List the model zoo.', {}));
 */
export function formatHelp(usage: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.kind === 'bool' ? '' : ` ${s.placeholder ?? (s.choices ? s.choices.join('|') : s.kind.toUpperCase())}`}`;
    const def = s.default !== undefined ? ` (default: ${String(s.default)})` : s.required === true ? ' (required)' : '';
    return `${left.padEnd(34)} ${s.help}${def}`;
  });
  return `${usage}\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  --help                             show this help`;
}
