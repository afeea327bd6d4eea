/**
 * A small strict flag parser: unknown flags and bad values are user errors (exit 2),
 * reported with the flag's name, what was expected and what was found.
 */
import { TlcvError } from '../errors.js';

export type FlagKind = 'string' | 'int' | 'number' | 'bool' | 'list';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  default?: string | number | boolean;
  /** Allowed values for string flags. */
  choices?: readonly string[];
  min?: number;
  /** Strictly greater than min (for lr > 0). */
  exclusiveMin?: boolean;
  max?: number;
  placeholder?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValue = string | number | boolean | string[];

export interface Parsed {
  flags: Record<string, FlagValue | undefined>;
  positional: string[];
}

function bad(flag: string, expected: string, found: string): TlcvError {
  return new TlcvError('ARGUMENT', `--${flag}: expected ${expected}, got ${JSON.stringify(found)}`);
}

function convert(name: string, spec: FlagSpec, raw: string): FlagValue {
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

/** Parses argv against specs; `--flag value`, `--flag=value`, and bare `--bool` forms. */
export function parseArgs(argv: string[], specs: FlagSpecs, command: string): Parsed {
  const flags: Record<string, FlagValue | undefined> = {};
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
    if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  }
  return { flags, positional };
}

export function formatHelp(usage: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, s]) => {
    const left = `  --${name}${s.kind === 'bool' ? '' : ` ${s.placeholder ?? (s.choices ? s.choices.join('|') : s.kind.toUpperCase())}`}`;
    const def = s.default !== undefined ? ` (default: ${String(s.default)})` : '';
    return `${left.padEnd(34)} ${s.help}${def}`;
  });
  return `${usage}\n\n${summary}\n\nFlags:\n${rows.join('\n')}\n  --help                             show this help`;
}

/** Reads a required string flag. */
export function requireFlag(p: Parsed, name: string, command: string): string {
  const v = p.flags[name];
  if (typeof v !== 'string' || v.length === 0) throw new TlcvError('ARGUMENT', `--${name} is required (see tlcv ${command} --help)`);
  return v;
}
