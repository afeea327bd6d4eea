/**
 * The scheduler interface and the base of the epoch-counting schedulers, which follow
 * PyTorch 1.13's `_LRScheduler`: construction performs step 0, each `step()` advances
 * `lastEpoch` and sets every group's lr from the chainable ("recursive") formula, so
 * outside changes to the lr carry through, and the lr sequence matches PyTorch's bit for bit
 * (up to the libm's last bit in cos).
 */
import { TlcvError, argumentError } from '../errors.js';
import { Optimizer, type JsonValue } from './optimizer.js';

/** What a training loop needs from any LR schedule; all of them change every group's lr. */
export interface LRScheduler {
  /** Advances one step (an epoch or a batch, as the caller uses it); ReduceLROnPlateau needs the metric. */
  step(metric?: number): void;
  /** The lr of each param group after the last step. */
  getLastLr(): number[];
  /** JSON-serialisable position (and settings) of the schedule, for resume. */
  stateDict(): SchedulerStateDict;
  loadStateDict(o: unknown): void;
}

export type SchedulerStateDict = { kind: string } & { [k: string]: JsonValue };

export type SchedulerConfig = Record<string, JsonValue>;

export abstract class EpochScheduler<C extends SchedulerConfig = SchedulerConfig> implements LRScheduler {
  readonly kind: string;
  readonly optimizer: Optimizer;
  protected readonly config: C;
  /** Steps taken since construction (0 right after it), PyTorch's last_epoch. */
  lastEpoch = -1;
  protected stepCount = 0;
  protected baseLrs: number[] = [];
  protected lastLr: number[] = [];

  protected constructor(kind: string, optimizer: Optimizer, config: C) {
    if (!(optimizer instanceof Optimizer)) throw argumentError(`optimizer of ${kind}`, 'an Optimizer (SGD, Adam, AdamW)', optimizer);
    this.kind = kind;
    this.optimizer = optimizer;
    this.config = config;
  }

  /** The lrs for `lastEpoch`, computed from the groups' current lrs (PyTorch's get_lr). */
  protected abstract chainedLr(): number[];

  /** The lrs for `lastEpoch` from base lrs alone, where PyTorch has a closed form. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** PyTorch's _initial_step; subclasses call it last in their constructor, once their settings are set. */
  protected start(): void {
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.initialLr);
    this.stepCount = 0;
    this.step();
  }

  step(_metric?: number): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.chainedLr());
  }

  /** PyTorch's step(epoch): jumps to an epoch with the closed form (SequentialLR uses it at milestones). */
  stepToEpoch(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.chainedLr());
  }

  /** PyTorch's _initial_step, as SequentialLR re-runs it on its first scheduler. */
  restart(): void {
    this.stepCount = 0;
    this.step();
  }

  protected get groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  private apply(lrs: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrs[i]!;
    });
    this.lastLr = this.groupLrs;
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return {
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: [...this.baseLrs],
      lastLr: [...this.lastLr],
      config: structuredClone(this.config) as JsonValue,
    };
  }

  loadStateDict(o: unknown): void {
    const s = checkStateDict(o, this.kind);
    const n = this.optimizer.paramGroups.length;
    const lastEpoch = stateInteger(s, 'lastEpoch', this.kind, -1);
    const stepCount = stateInteger(s, 'stepCount', this.kind, 0);
    const baseLrs = stateNumbers(s, 'baseLrs', this.kind, n);
    const lastLr = stateNumbers(s, 'lastLr', this.kind, n);
    const config = s.config;
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw stateError(this.kind, 'config', 'an object', config);
    for (const [k, v] of Object.entries(this.config)) {
      if (JSON.stringify(typeOfJson(config[k])) !== JSON.stringify(typeOfJson(v))) throw stateError(this.kind, `config.${k}`, `a ${typeOfJson(v)}`, config[k]);
    }
    Object.assign(this.config, config);
    Object.assign(this, { lastEpoch, stepCount, baseLrs, lastLr });
  }
}

function typeOfJson(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

export function checkStateDict(o: unknown, kind: string): Record<string, JsonValue> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TlcvError('TRAINING', `cannot load ${kind} state: expected an object but received ${JSON.stringify(o)}`);
  const s = o as Record<string, JsonValue>;
  if (s.kind !== kind) throw new TlcvError('TRAINING', `cannot load ${kind} state: the state is from ${JSON.stringify(s.kind)}`);
  return s;
}

export function stateError(kind: string, key: string, expected: string, found: unknown): TlcvError {
  return new TlcvError('TRAINING', `cannot load ${kind} state: expected ${expected} for ${key} but found ${JSON.stringify(found)}`);
}

export function stateInteger(s: Record<string, JsonValue>, key: string, kind: string, min: number): number {
  const v = s[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw stateError(kind, key, `an integer >= ${min}`, v);
  return v;
}

export function stateNumbers(s: Record<string, JsonValue>, key: string, kind: string, n: number): number[] {
  const v = s[key];
  if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number')) throw stateError(kind, key, `${n} numbers (one per param group)`, v);
  return v as number[];
}

/** JSON has no Infinity or NaN; they travel as strings. */
export function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function decodeNumber(v: JsonValue, kind: string, key: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity' || v === '-Infinity' || v === 'NaN') return Number(v);
  throw stateError(kind, key, 'a number', v);
}

/** One value per param group: a single number is repeated, a list must have one per group. */
export function perGroup(value: number | number[], optimizer: Optimizer, name: string): number[] {
  const n = optimizer.paramGroups.length;
  if (Array.isArray(value)) {
    if (value.length !== n) throw argumentError(name, `${n} values (one per param group)`, value);
    return [...value];
  }
  return new Array<number>(n).fill(value);
}

/** Python's % (the result takes the divisor's sign), which the cosine schedule relies on. */
export function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

export function checkPositiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw argumentError(name, 'a positive integer', v);
  return v;
}

export function checkFinite(name: string, v: unknown, ok: (n: number) => boolean = () => true, expected = 'a finite number'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw argumentError(name, expected, v);
  return v;
}
