/**
 * The optimizer base: parameter groups with resolved hyperparameters, per-parameter state
 * (owned here, freed by `dispose()`), and a state dict that splits into tensors
 * (safetensors) and JSON, so a checkpoint needs no pickle.
 */
import { TlcvError, argumentError } from '../errors.js';
import { Tensor, fusedStepSupports, isFloating, keep, noGrad, tidy } from '../tensor/index.js';
import { invoke } from '../tensor/invoke.js';
import { foreachOps, loopOps, type ListOps } from './list-ops.js';

/** Hyperparameters every optimizer has; schedulers change `lr`. */
export interface BaseHyperparams {
  lr: number;
  weightDecay: number;
}

/** A parameter group as given: hyperparameters left out take the optimizer's defaults. */
export type ParamGroup<H extends BaseHyperparams = BaseHyperparams> = { params: Tensor[]; name?: string } & Partial<H>;

/** A parameter group as held: every hyperparameter resolved, `initialLr` the lr it started with. */
export type ResolvedParamGroup<H extends BaseHyperparams = BaseHyperparams> = H & {
  params: Tensor[];
  initialLr: number;
  name?: string;
};

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** The JSON half of a state dict: hyperparameters per group and scalar state per parameter. */
export interface OptimizerStateMeta {
  format: 'tlcv-optimizer';
  version: 1;
  optimizer: string;
  paramGroups: { [k: string]: JsonValue; params: number[]; initialLr: number }[];
  /** Keyed by parameter index (over all groups, in order): its step count and buffer names. */
  state: Record<string, { step?: number; buffers: string[] }>;
}

/** Tensors are keyed `state.<paramIndex>.<buffer>`; they are the optimizer's own (do not dispose). */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  meta: OptimizerStateMeta;
}

export interface ParamState {
  step?: number;
  buffers: Map<string, Tensor>;
}

/** Which hyperparameter OneCycleLR cycles: SGD's momentum or Adam's beta1. */
export type MomentumKind = 'momentum' | 'beta1';

type Resolver<H> = (spec: Partial<H>, where: string) => H;

export interface OptimizerOptions {
  /**
   * For the parameters the fused step does not take (see `fused`), or all of them with
   * `fused: false`. false (default): one parameter at a time, as PyTorch's single-tensor loop
   * does, each one's temporaries freed before the next, so the allocator reuses them.
   * true: each op runs once over the whole group through libtorch's _foreach_* ops: fewer
   * calls, but a whole parameter set of temporaries at once; on CPU it measured slower
   * (resnet18: SGD about 1.5x, Adam about 1.4x). Results are bit-identical either way.
   */
  foreach?: boolean;
  /**
   * true (default, unless foreach is true): every dense CPU float32/float64 parameter is
   * updated by one native call that makes a single pass over its memory (parameter, gradient,
   * state) on all threads; the rest (bf16 or half parameters, other devices) take the per-op
   * path. It rounds as PyTorch's ops do on the same CPU: measured bit-identical to
   * torch.optim 1.13 on AVX2. false: always the per-op path.
   */
  fused?: boolean;
}

/** A parameter with its gradient and group, handed to the fused update. */
export interface FusedEntry<H extends BaseHyperparams = BaseHyperparams> {
  group: ResolvedParamGroup<H>;
  param: Tensor;
  grad: Tensor;
}

export abstract class Optimizer<H extends BaseHyperparams = BaseHyperparams> {
  readonly kind: string;
  readonly paramGroups: ResolvedParamGroup<H>[];
  /** What OneCycleLR may cycle, or null when this optimizer has no momentum. */
  abstract readonly momentumKind: MomentumKind | null;
  protected readonly state = new Map<Tensor, ParamState>();
  protected readonly ops: ListOps;
  readonly #foreach: boolean;
  readonly #fused: boolean;
  /** Whether each parameter fits the fused step, decided once (a parameter keeps its layout). */
  readonly #fusable = new WeakMap<Tensor, boolean>();
  readonly #resolve: Resolver<H>;
  #lastStep = { fused: 0, perOp: 0 };
  #disposed = false;

  protected constructor(kind: string, params: Tensor[] | ParamGroup<H>[], defaults: Partial<H>, resolve: Resolver<H>, o: OptimizerOptions = {}) {
    this.kind = kind;
    this.#resolve = resolve;
    this.#foreach = o.foreach ?? false;
    if (o.fused === true && this.#foreach) throw argumentError(`${kind} options`, 'fused and foreach not both true', { fused: true, foreach: true });
    this.#fused = o.fused ?? !this.#foreach;
    this.ops = this.#foreach ? foreachOps : loopOps;
    if (!Array.isArray(params) || params.length === 0) throw argumentError(`${kind} params`, 'a non-empty array of tensors or parameter groups', params);
    const specs: ParamGroup<H>[] = params[0] instanceof Tensor ? [{ params: params as Tensor[] } as ParamGroup<H>] : (params as ParamGroup<H>[]);
    const seen = new Set<Tensor>();
    this.paramGroups = specs.map((spec, i) => {
      const where = groupLabel(kind, i, spec?.name);
      if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.params)) throw argumentError(where, 'a parameter group {params: Tensor[], ...}', spec);
      spec.params.forEach((p, j) => checkParam(p, `${where}.params[${j}]`, seen));
      const { params: ps, name, ...hyper } = spec;
      const resolved = resolve(withDefaults(defaults, hyper as unknown as Partial<H>), where);
      return { ...resolved, params: [...ps], initialLr: resolved.lr, ...(name === undefined ? {} : { name }) };
    });
    if (seen.size === 0) throw argumentError(`${kind} params`, 'at least one parameter', 'none');
  }

  /** Runs one update on every parameter that has a gradient, in place and without autograd. */
  step(): void {
    this.assertUsable();
    noGrad(() =>
      tidy(() => {
        const fused: FusedEntry<H>[] = [];
        let perOp = 0;
        for (const group of this.paramGroups) {
          const params: Tensor[] = [];
          const grads: Tensor[] = [];
          for (const p of group.params) {
            const g = p.grad;
            if (g === null) continue;
            if (this.#fused && this.#fits(p)) fused.push({ group, param: p, grad: g });
            else {
              params.push(p);
              grads.push(g);
            }
          }
          perOp += params.length;
          if (this.#foreach) {
            if (params.length > 0) this.updateGroup(group, params, grads);
          } else {
            // PyTorch's single-tensor loop: one parameter at a time, its temporaries freed before the next.
            params.forEach((p, i) => tidy(() => this.updateGroup(group, [p], [grads[i]!])));
          }
        }
        if (fused.length > 0) this.fusedUpdate(fused);
        this.#lastStep = { fused: fused.length, perOp };
      }),
    );
  }

  /**
   * How many parameters the last step() updated through the fused native step and through
   * the per-op path.
   * @example
   * opt.step();
   * if (opt.lastStepPaths.perOp > 0) console.log('some parameters (bf16?) took the slower path');
   */
  get lastStepPaths(): { fused: number; perOp: number } {
    return { ...this.#lastStep };
  }

  #fits(p: Tensor): boolean {
    let ok = this.#fusable.get(p);
    if (ok === undefined) {
      ok = fusedStepSupports(p);
      this.#fusable.set(p, ok);
    }
    return ok;
  }

  /** Sets every gradient to none (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.assertUsable();
    for (const group of this.paramGroups) for (const p of group.params) p.grad = null;
  }

  /** The update of one group; params all have grads, and state tensors made here must be kept. */
  protected abstract updateGroup(group: ResolvedParamGroup<H>, params: Tensor[], grads: Tensor[]): void;

  /** The same update through the fused native step, for parameters of every group at once. */
  protected abstract fusedUpdate(entries: FusedEntry<H>[]): void;

  /** The state of a parameter, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = { buffers: new Map() };
      this.state.set(p, s);
    }
    return s;
  }

  /** A kept zero tensor shaped, typed and laid out like p (torch.zeros_like, preserve format). */
  protected zerosLike(p: Tensor): Tensor {
    return keep(invoke('zeros_like', [p, null, null, null, null, 1]) as Tensor);
  }

  /**
   * The optimizer state, split for a safetensors file (tensors) and JSON (meta).
   * @example
   * const { tensors, meta } = opt.stateDict();
   * writeSafetensors('optim.safetensors', tensors, { meta: JSON.stringify(meta) });
   */
  stateDict(): OptimizerStateDict {
    this.assertUsable();
    const tensors = new Map<string, Tensor>();
    const meta: OptimizerStateMeta = { format: 'tlcv-optimizer', version: 1, optimizer: this.kind, paramGroups: [], state: {} };
    let index = 0;
    for (const group of this.paramGroups) {
      const { params, name: _name, ...hyper } = group;
      const ids: number[] = [];
      for (const p of params) {
        const s = this.state.get(p);
        if (s !== undefined) {
          meta.state[String(index)] = { ...(s.step === undefined ? {} : { step: s.step }), buffers: [...s.buffers.keys()] };
          for (const [k, t] of s.buffers) tensors.set(`state.${index}.${k}`, t);
        }
        ids.push(index);
        index += 1;
      }
      meta.paramGroups.push({ ...(structuredClone(hyper) as unknown as { [k: string]: JsonValue; initialLr: number }), params: ids });
    }
    return { tensors, meta };
  }

  /**
   * Restores a state dict from `stateDict()` (possibly read back from files): hyperparameters
   * and per-parameter state. Tensors are copied, so the caller may dispose the ones it passed.
   * Nothing changes unless the whole state dict fits this optimizer.
   */
  loadStateDict(sd: { tensors: Map<string, Tensor>; meta: unknown }): void {
    this.assertUsable();
    const meta = sd.meta as OptimizerStateMeta;
    const bad = (what: string): TlcvError => new TlcvError('TRAINING', `cannot load optimizer state into ${this.kind}: ${what}`);
    if (meta === null || typeof meta !== 'object' || meta.format !== 'tlcv-optimizer') throw bad(`expected meta.format "tlcv-optimizer" but found ${JSON.stringify((meta as { format?: unknown } | null)?.format)}`);
    if (meta.optimizer !== this.kind) throw bad(`the state is from ${meta.optimizer}`);
    if (!Array.isArray(meta.paramGroups) || meta.paramGroups.length !== this.paramGroups.length) {
      throw bad(`expected ${this.paramGroups.length} parameter groups but found ${Array.isArray(meta.paramGroups) ? meta.paramGroups.length : 'none'}`);
    }
    const allParams: Tensor[] = [];
    const hypers = this.paramGroups.map((group, i) => {
      const saved = meta.paramGroups[i]!;
      const where = groupLabel(this.kind, i, group.name);
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw bad(`${where} has ${group.params.length} parameters but the state has ${Array.isArray(saved.params) ? saved.params.length : 'none'}`);
      }
      allParams.push(...group.params);
      const { params: _p, initialLr, ...hyper } = saved;
      const resolved = this.#resolve(hyper as unknown as Partial<H>, where);
      return { ...resolved, initialLr: typeof initialLr === 'number' ? initialLr : resolved.lr };
    });
    const fresh = new Map<Tensor, ParamState>();
    try {
      for (const [key, entry] of Object.entries(meta.state ?? {})) {
        const p = allParams[Number(key)];
        if (p === undefined || !/^\d+$/.test(key)) throw bad(`state entry ${key} names no parameter (there are ${allParams.length})`);
        const s: ParamState = { buffers: new Map() };
        if (entry.step !== undefined) {
          if (!Number.isInteger(entry.step) || entry.step < 0) throw bad(`state.${key}.step must be a non-negative integer but is ${entry.step}`);
          s.step = entry.step;
        }
        fresh.set(p, s);
        for (const name of entry.buffers ?? []) {
          const t = sd.tensors.get(`state.${key}.${name}`);
          if (t === undefined) throw bad(`tensor state.${key}.${name} is missing`);
          if (t.shape.join(',') !== p.shape.join(',')) throw bad(`tensor state.${key}.${name} has shape [${t.shape}] but parameter ${key} has shape [${p.shape}]`);
          s.buffers.set(name, copyLike(t, p));
        }
      }
    } catch (e) {
      for (const s of fresh.values()) for (const t of s.buffers.values()) t.dispose();
      throw e;
    }
    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s);
    this.paramGroups.forEach((group, i) => Object.assign(group, hypers[i]));
  }

  /** Frees the optimizer's state tensors; the optimizer cannot step afterwards. */
  dispose(): void {
    this.disposeState();
    this.#disposed = true;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const t of s.buffers.values()) t.dispose();
    this.state.clear();
  }

  private assertUsable(): void {
    if (this.#disposed) throw new TlcvError('DISPOSED', `${this.kind} optimizer was used after dispose()`);
  }
}

/** defaults overridden by the group's own values; an explicit undefined keeps the default. */
function withDefaults<H>(defaults: Partial<H>, own: Partial<H>): Partial<H> {
  const out: Partial<H> = { ...defaults };
  for (const [k, v] of Object.entries(own)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export function groupLabel(kind: string, i: number, name?: string): string {
  return `${kind} paramGroups[${i}]${name === undefined ? '' : ` (${name})`}`;
}

function checkParam(p: unknown, where: string, seen: Set<Tensor>): void {
  if (!(p instanceof Tensor)) throw argumentError(where, 'a Tensor', p);
  if (p.isDisposed) throw new TlcvError('DISPOSED', `${where} was disposed before the optimizer was made`);
  if (!isFloating(p.dtype)) throw argumentError(where, 'a floating-point parameter', `dtype ${p.dtype}`);
  if (seen.has(p)) throw argumentError(where, 'each parameter in one group only', 'a parameter that appears twice');
  seen.add(p);
}

/**
 * A kept copy of t with p's dtype, device and layout, as torch casts loaded optimizer state;
 * in p's layout too (a channels-last weight's state comes back from a file contiguous), since
 * the fused step walks state and parameter element for element.
 */
function copyLike(t: Tensor, p: Tensor): Tensor {
  const out = keep(invoke('empty_like', [p, null, null, null, null, 1]) as Tensor);
  noGrad(() => out.copy_(t));
  return out;
}

/** Validation shared by the optimizers' resolvers: finite number in a range, with a clear message. */
export function checkNumber(where: string, name: string, v: unknown, ok: (n: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw argumentError(`${name} of ${where}`, expected, v);
  return v;
}

export function checkBoolean(where: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw argumentError(`${name} of ${where}`, 'true or false', v);
  return v;
}
