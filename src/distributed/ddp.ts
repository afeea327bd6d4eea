/**
 * Data-parallel training with PyTorch DDP's semantics, on a model tlcv already trains:
 * - at start, every rank gets rank 0's parameters and buffers, after a check that all ranks
 *   hold the same parameter shapes (DDP's verify_params_across_processes);
 * - gradients are averaged over the ranks in buckets of about 25 MB. `backward(loss)` runs
 *   c10d's Reducer, PyTorch DDP's own engine, so each bucket's allreduce starts while
 *   backward still computes the earlier layers; `allreduceGradients()` does the same
 *   averaging after an ordinary backward, for a loop that must call backward itself;
 * - buffers (BatchNorm's running statistics) are rank 0's at each `syncBuffers()`, DDP's
 *   broadcast_buffers; BatchNorm's batch statistics stay per rank, DDP's default.
 *
 * A training loop calls, per step: syncBuffers() before the forward, then backward(loss) (or
 * loss.backward() and allreduceGradients()), then the optimizer step. Each has a ...Sync twin
 * that blocks the JS thread instead, for loops whose per-step events cannot await (the
 * Learner's callbacks: beforeBatch syncBuffersSync(), afterLoss prepareForBackward(loss), and
 * the Learner's own backward then returns with averaged gradients).
 */
import { native } from '../native/binding.js';
import { TlcvError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { DEFAULT_BUCKET_BYTES, type ProcessGroup } from './process-group.js';

export interface DdpOptions {
  /** Gradient bucket size in MiB (DDP's bucket_cap_mb, default 25). */
  bucketCapMB?: number;
  /** The first bucket's size in MiB (DDP's default 1: communication starts early in backward). */
  firstBucketMB?: number;
  /** Give every rank rank 0's buffers at each syncBuffers() (DDP's broadcast_buffers, default true). */
  broadcastBuffers?: boolean;
}

const MiB = 1024 * 1024;
const CHECK = 'check of the model across ranks';
const BACKWARD = 'backward with the allreduce of gradients';
const GRADIENTS = 'allreduce of gradients';
const BUFFERS = 'broadcast of the buffers from rank 0';

interface Reducer {
  id: number;
  buckets: number;
  params: Tensor[];
}

/**
 * @example
 * const group = await initProcessGroup();                 // RANK, WORLD_SIZE, ... from the launcher
 * const ddp = await DistributedDataParallel.create(model, group);
 * for (const { x, y } of loader) {
 *   await ddp.syncBuffers();
 *   const loss = tidy(() => keep(F.crossEntropy(model.forward(x), y)));
 *   await ddp.backward(loss);                              // gradients now hold the average over ranks
 *   optimizer.step(); model.zeroGrad(); loss.dispose();
 * }
 */
export class DistributedDataParallel {
  readonly module: Module;
  readonly group: ProcessGroup;
  readonly bucketBytes: number;
  readonly firstBucketBytes: number;
  readonly broadcastBuffers: boolean;
  #reducer: Reducer | null = null;

  private constructor(module: Module, group: ProcessGroup, o: DdpOptions) {
    this.module = module;
    this.group = group;
    const cap = o.bucketCapMB ?? DEFAULT_BUCKET_BYTES / MiB;
    const first = o.firstBucketMB ?? 1;
    if (!(cap > 0) || !(first > 0)) throw new TlcvError('ARGUMENT', `bucketCapMB and firstBucketMB: expected positive sizes in MiB, found ${cap} and ${first}`);
    this.bucketBytes = Math.round(cap * MiB);
    this.firstBucketBytes = Math.round(first * MiB);
    this.broadcastBuffers = o.broadcastBuffers ?? true;
  }

  /**
   * Wraps a model for data-parallel training: checks that every rank has the same parameters,
   * then gives every rank rank 0's weights and buffers. Every rank calls it, after moving the
   * model (`to`) and before making the optimizer's state depend on the weights.
   */
  static async create(module: Module, group: ProcessGroup, o: DdpOptions = {}): Promise<DistributedDataParallel> {
    const ddp = new DistributedDataParallel(module, group, o);
    await ddp.#ensureReducer();
    const states = [...module.parameters(), ...module.namedBuffers().values()];
    await group.broadcast(states, 0, 'broadcast of the parameters and buffers from rank 0');
    return ddp;
  }

  /** How many gradient buckets the reducer made for the trainable parameters. */
  get buckets(): number {
    return this.#reducer?.buckets ?? 0;
  }

  /** The trainable parameters when the reducer must be (re)built for them, else null. */
  #stale(): Tensor[] | null {
    const params = this.module.parameters({ trainableOnly: true });
    const current = this.#reducer;
    // Freezing or unfreezing changes what is reduced; every rank does it at the same step.
    if (current !== null && current.params.length === params.length && current.params.every((p, i) => p === params[i])) return null;
    if (params.length === 0) {
      throw new TlcvError('ARGUMENT', 'data-parallel training needs at least one trainable parameter: the model is entirely frozen');
    }
    if (current !== null) native.distReducerDestroy(current.id);
    this.#reducer = null;
    return params;
  }

  async #ensureReducer(): Promise<Reducer> {
    const params = this.#stale();
    if (params === null) return this.#reducer!;
    const h = params.map((p) => p.handle);
    const made = await this.group.run(CHECK, () => native.distReducer(this.group.nativeId, h, this.bucketBytes, this.firstBucketBytes));
    this.#reducer = { ...made, params };
    return this.#reducer;
  }

  #ensureReducerSync(): Reducer {
    const params = this.#stale();
    if (params === null) return this.#reducer!;
    const h = params.map((p) => p.handle);
    const made = this.group.runSync(CHECK, () => native.distReducer(this.group.nativeId, h, this.bucketBytes, this.firstBucketBytes, true));
    this.#reducer = { ...made, params };
    return this.#reducer;
  }

  /**
   * Backward from `loss` with the gradients averaged over the ranks, each bucket's allreduce
   * overlapping the rest of backward. Every trainable parameter must receive a gradient.
   * Nothing else may use tensors until it resolves: backward runs on another thread.
   */
  async backward(loss: Tensor): Promise<void> {
    const reducer = await this.#ensureReducer();
    const h = loss.handle;
    await this.group.run(BACKWARD, () => native.distReducerBackward(reducer.id, h));
  }

  /** backward() on the JS thread. */
  backwardSync(loss: Tensor): void {
    const reducer = this.#ensureReducerSync();
    const h = loss.handle;
    this.group.runSync(BACKWARD, () => native.distReducerBackward(reducer.id, h, true));
  }

  /**
   * Arms the reducer for a backward the caller runs itself (the Learner's `loss.backward()`, from
   * an afterLoss callback): its buckets are then allreduced while that backward runs, and it
   * returns with the averages. If it throws, `explainBackward(error)` names the rank at fault.
   */
  prepareForBackward(loss: Tensor): void {
    const reducer = this.#ensureReducerSync();
    native.distReducerPrepare(reducer.id, loss.handle);
  }

  /** The one-line TlcvError for an error thrown by a backward armed with prepareForBackward. */
  explainBackward(error: unknown): TlcvError {
    return this.group.explain(BACKWARD, error);
  }

  /** The trainable parameters' gradients, or an error naming one that has none. */
  #grads(): Tensor[] {
    const grads: Tensor[] = [];
    for (const [name, p] of this.module.namedParameters({ trainableOnly: true })) {
      const g = p.grad;
      if (g === null) {
        for (const t of grads) t.dispose();
        throw new TlcvError('TRAINING', `parameter ${name} got no gradient in this step: data-parallel training needs every trainable parameter to take part (as DDP's find_unused_parameters=False)`);
      }
      grads.push(g);
    }
    // Reversed, as the reducer's buckets: the last layers' gradients first.
    return grads.reverse();
  }

  /** Averages the trainable parameters' gradients over the ranks after an ordinary backward. */
  async allreduceGradients(): Promise<void> {
    const grads = this.#grads();
    try {
      await this.group.allreduce(grads, { average: true, bucketBytes: this.bucketBytes, what: GRADIENTS });
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /** allreduceGradients() on the JS thread (an afterBackward callback). */
  allreduceGradientsSync(): void {
    const grads = this.#grads();
    try {
      this.group.allreduceSync(grads, { average: true, bucketBytes: this.bucketBytes, what: GRADIENTS });
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  #buffers(): Tensor[] {
    return !this.broadcastBuffers || this.group.worldSize === 1 ? [] : [...this.module.namedBuffers().values()];
  }

  /** Gives every rank rank 0's buffers (BatchNorm running statistics), when broadcastBuffers is on. */
  async syncBuffers(): Promise<void> {
    const buffers = this.#buffers();
    if (buffers.length > 0) await this.group.broadcast(buffers, 0, BUFFERS);
  }

  /** syncBuffers() on the JS thread (a beforeBatch callback). */
  syncBuffersSync(): void {
    const buffers = this.#buffers();
    if (buffers.length > 0) this.group.broadcastSync(buffers, 0, BUFFERS);
  }

  /** Removes the reducer's hooks from the parameters; the model trains alone again. */
  dispose(): void {
    if (this.#reducer !== null) native.distReducerDestroy(this.#reducer.id);
    this.#reducer = null;
  }
}
