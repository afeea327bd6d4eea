/**
 * The module tree: named parameters, buffers and children, so that state-dict keys come out
 * exactly as torchvision writes them (`layer1.0.conv1.weight`, `bn1.running_mean`).
 *
 * Layers read their tensors and children back by name on every forward instead of caching
 * them in fields: `to()`, `loadStateDict()` and `setSubmodule()` can then swap what a name
 * points at without leaving stale references behind.
 */
import { TlcvError, argumentError } from '../errors.js';
import { keep, noGrad, isFloating, type DType, type MemoryFormat, type Tensor } from '../tensor/index.js';
import { checkStateDict, describeProblems, toStateMap, type LoadReport, type StateDictInput } from './state-dict.js';

export interface ToOptions {
  dtype?: DType;
  device?: string;
  memoryFormat?: MemoryFormat;
}

const matchesPrefix = (name: string, prefix: string): boolean =>
  prefix === '' || name === prefix || name.startsWith(prefix.endsWith('.') ? prefix : `${prefix}.`);

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #modules = new Map<string, Module>();
  #disposed = false;
  readonly #onDispose: (() => void)[] = [];

  abstract forward(x: Tensor): Tensor;

  /** Takes ownership of `t` as a trainable parameter (kept out of every tidy scope). */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.#checkName(name);
    if (t !== null) {
      keep(t);
      t.requiresGrad_(true);
    }
    this.#params.set(name, t);
    return t;
  }

  /** Takes ownership of `t` as state that is saved but not trained (running statistics). */
  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    this.#checkName(name);
    if (t !== null) keep(t);
    this.#buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName(name);
    this.#modules.set(name, m);
    return m;
  }

  #checkName(name: string): void {
    if (name === '' || name.includes('.')) throw argumentError('module attribute name', 'a non-empty name without dots', name);
  }

  /** The live parameter registered under `name` (throws when it is null or absent). */
  protected param(name: string): Tensor {
    const t = this.#params.get(name);
    if (t === undefined || t === null) throw new TlcvError('MODEL', `${this.constructor.name} has no parameter "${name}"`);
    return t;
  }
  protected optionalParam(name: string): Tensor | null {
    return this.#params.get(name) ?? null;
  }
  protected buffer(name: string): Tensor {
    const t = this.#buffers.get(name);
    if (t === undefined || t === null) throw new TlcvError('MODEL', `${this.constructor.name} has no buffer "${name}"`);
    return t;
  }
  protected optionalBuffer(name: string): Tensor | null {
    return this.#buffers.get(name) ?? null;
  }
  protected child<M extends Module = Module>(name: string): M {
    const m = this.#modules.get(name);
    if (m === undefined) throw new TlcvError('MODEL', `${this.constructor.name} has no submodule "${name}"`);
    return m as M;
  }
  protected hasChild(name: string): boolean {
    return this.#modules.has(name);
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): Map<string, Module> {
    return new Map(this.#modules);
  }
  children(): Module[] {
    return [...this.#modules.values()];
  }

  /** Every module in the tree, depth first, with '' for this one (as PyTorch's named_modules). */
  namedModules(prefix = ''): Map<string, Module> {
    const out = new Map<string, Module>([[prefix, this]]);
    for (const [name, m] of this.#modules) {
      for (const [sub, mm] of m.namedModules(prefix === '' ? name : `${prefix}.${name}`)) out.set(sub, mm);
    }
    return out;
  }

  #walk(kind: 'params' | 'buffers', prefix: string, out: Map<string, Tensor>, seen: Set<Tensor>): void {
    for (const [name, t] of kind === 'params' ? this.#params : this.#buffers) {
      if (t === null || seen.has(t)) continue;
      seen.add(t);
      out.set(prefix + name, t);
    }
    for (const [name, m] of this.#modules) m.#walk(kind, `${prefix}${name}.`, out, seen);
  }

  /**
   * Parameters by their torchvision names.
   *
   * @example
   * for (const [name, p] of model.namedParameters({ trainableOnly: true })) console.log(name, p.shape);
   */
  namedParameters(o: { trainableOnly?: boolean } = {}): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.#walk('params', '', out, new Set());
    if (o.trainableOnly === true) for (const [n, t] of out) if (!t.requiresGrad) out.delete(n);
    return out;
  }
  parameters(o: { trainableOnly?: boolean } = {}): Tensor[] {
    return [...this.namedParameters(o).values()];
  }
  namedBuffers(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.#walk('buffers', '', out, new Set());
    return out;
  }

  /** Looks a module up by dotted path ('layer1.0.conv1'); '' is this module. */
  getSubmodule(path: string): Module {
    let m = this as Module;
    if (path === '') return m;
    const walked: string[] = [];
    for (const part of path.split('.')) {
      const next = m.#modules.get(part);
      if (next === undefined) {
        const at = walked.length === 0 ? 'the model' : `"${walked.join('.')}"`;
        throw new TlcvError('MODEL', `no submodule "${path}": ${at} has no child "${part}" (children: ${[...m.#modules.keys()].join(', ') || 'none'})`);
      }
      walked.push(part);
      m = next;
    }
    return m;
  }

  /** Replaces the module at `path` (which must exist) and disposes the one it replaces. */
  setSubmodule(path: string, m: Module): void {
    const dot = path.lastIndexOf('.');
    const parent = this.getSubmodule(dot < 0 ? '' : path.slice(0, dot));
    const name = path.slice(dot + 1);
    const old = parent.#modules.get(name);
    if (old === undefined) throw new TlcvError('MODEL', `no submodule "${path}" to replace (children of its parent: ${[...parent.#modules.keys()].join(', ')})`);
    parent.#modules.set(name, m);
    if (old !== m) old.dispose();
  }

  train(on = true): this {
    for (const m of this.namedModules().values()) m.training = on;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters then buffers of each module, children after, with torchvision's keys. The map
   * holds live references: copy before mutating if you need a snapshot.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.#collectState('', out);
    return out;
  }

  #collectState(prefix: string, out: Map<string, Tensor>): void {
    for (const [n, t] of this.#params) if (t !== null) out.set(prefix + n, t);
    for (const [n, t] of this.#buffers) if (t !== null) out.set(prefix + n, t);
    for (const [n, m] of this.#modules) m.#collectState(`${prefix}${n}.`, out);
  }

  /**
   * Names of state entries that older checkpoints may lack (BatchNorm's num_batches_tracked);
   * PyTorch fills those in rather than calling them missing, and so do we.
   */
  protected optionalStateKeys(): string[] {
    return [];
  }

  /** Keys that may be absent from a state dict, with the value to reset them to. */
  optionalStateEntries(): Set<string> {
    const out = new Set<string>();
    for (const [path, m] of this.namedModules()) {
      for (const k of m.optionalStateKeys()) out.add(path === '' ? k : `${path}.${k}`);
    }
    return out;
  }

  /**
   * Copies values in place (casting dtype). Strict mode checks everything first and throws
   * TlcvError('WEIGHTS') naming each missing, unexpected or mis-shaped entry, copying nothing.
   *
   * @example
   * const report = model.loadStateDict(readSafetensors('resnet18.safetensors'));
   */
  loadStateDict(sd: StateDictInput, o: { strict?: boolean } = {}): LoadReport {
    const source = toStateMap(sd);
    const own = this.stateDict();
    const optional = this.optionalStateEntries();
    const report = checkStateDict(own, source, optional);
    const strict = o.strict ?? true;
    if (strict && (report.missing.length > 0 || report.unexpected.length > 0 || report.mismatched.length > 0)) {
      throw new TlcvError('WEIGHTS', `state dict does not fit ${this.constructor.name}:\n${describeProblems(report)}`);
    }
    const bad = new Set(report.mismatched.map((m) => m.name));
    noGrad(() => {
      for (const [name, target] of own) {
        const src = source.get(name);
        if (src !== undefined && !bad.has(name)) target.copy_(src);
        else if (src === undefined && optional.has(name)) target.zero_();
      }
    });
    return report;
  }

  /** Stops training the parameters under the given name prefixes (all of them when omitted). */
  freeze(prefixes?: string[]): this {
    return this.#setTrainable(prefixes, false);
  }
  unfreeze(prefixes?: string[]): this {
    return this.#setTrainable(prefixes, true);
  }

  #setTrainable(prefixes: string[] | undefined, on: boolean): this {
    const params = this.namedParameters();
    const wanted = prefixes ?? [''];
    for (const p of wanted) {
      if (![...params.keys()].some((n) => matchesPrefix(n, p))) {
        const tops = [...new Set([...params.keys()].map((n) => n.split('.')[0]!))].join(', ');
        throw argumentError(on ? 'unfreeze prefix' : 'freeze prefix', `a prefix of some parameter name (top-level: ${tops})`, p);
      }
    }
    for (const [n, t] of params) if (wanted.some((p) => matchesPrefix(n, p))) t.requiresGrad_(on);
    return this;
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  numParameters(o: { trainableOnly?: boolean } = {}): number {
    return this.parameters(o).reduce((n, p) => n + p.numel, 0);
  }

  /**
   * Moves or casts every parameter and buffer, keeping names and trainability. Call it before
   * making an optimizer: the optimizer must see the new tensors. dtype applies to floating
   * tensors only and memoryFormat to 4-d ones, as in PyTorch.
   *
   * @example
   * model.to({ memoryFormat: 'channelsLast' });
   */
  to(target: string | ToOptions): this {
    const o: ToOptions = typeof target === 'string' ? { device: target } : target;
    noGrad(() => {
      for (const m of this.namedModules().values()) {
        for (const store of [m.#params, m.#buffers]) {
          for (const [name, t] of store) {
            if (t === null) continue;
            const trainable = store === m.#params && t.requiresGrad;
            const moved = t.to({
              dtype: o.dtype !== undefined && isFloating(t.dtype) ? o.dtype : undefined,
              device: o.device,
              memoryFormat: o.memoryFormat !== undefined && t.ndim === 4 ? o.memoryFormat : undefined,
            });
            keep(moved);
            t.dispose();
            if (store === m.#params) moved.requiresGrad_(trainable);
            store.set(name, moved);
          }
        }
      }
    });
    return this;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /**
   * Runs fn once, when this module is disposed: for what is derived from its weights and must
   * not outlive them (a cached folded inference view).
   *
   * @example
   * model.onDispose(() => view.dispose());
   */
  onDispose(fn: () => void): void {
    this.#onDispose.push(fn);
  }

  /** Frees every parameter and buffer of the tree. The module cannot be used afterwards. */
  dispose(): void {
    for (const fn of this.#onDispose.splice(0)) fn();
    for (const t of this.#params.values()) t?.dispose();
    for (const t of this.#buffers.values()) t?.dispose();
    for (const m of this.#modules.values()) m.dispose();
    this.#disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}
