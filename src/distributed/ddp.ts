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
 * A training loop (the Learner's callback) calls, per step: syncBuffers() before the forward,
 * then backward(loss) (or loss.backward() and allreduceGradients()), then the optimizer step.
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

  async #ensureReducer(): Promise<Reducer> {
    const params = this.module.parameters({ trainableOnly: true });
    const current = this.#reducer;
    // Freezing or unfreezing changes what is reduced; every rank does it at the same step.
    if (current !== null && current.params.length === params.length && current.params.every((p, i) => p === params[i])) return current;
    if (params.length === 0) {
      throw new TlcvError('ARGUMENT', 'data-parallel training needs at least one trainable parameter: the model is entirely frozen');
    }
    if (current !== null) native.distReducerDestroy(current.id);
    this.#reducer = null;
    const made = await this.group.run('check of the model across ranks', () =>
      native.distReducer(
        this.group.nativeId,
        params.map((p) => p.handle),
        this.bucketBytes,
        this.firstBucketBytes,
      ),
    );
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
    await this.group.run('backward with the allreduce of gradients', () => native.distReducerBackward(reducer.id, loss.handle));
  }

  /** Averages the trainable parameters' gradients over the ranks after an ordinary backward. */
  async allreduceGradients(): Promise<void> {
    const named = this.module.namedParameters({ trainableOnly: true });
    const grads: Tensor[] = [];
    try {
      for (const [name, p] of named) {
        const g = p.grad;
        if (g === null) {
          throw new TlcvError('TRAINING', `parameter ${name} got no gradient in this step: data-parallel training needs every trainable parameter to take part (as DDP's find_unused_parameters=False)`);
        }
        grads.push(g);
      }
      // Reversed, as the reducer's buckets: the last layers' gradients first.
      await this.group.allreduce(grads.reverse(), { average: true, bucketBytes: this.bucketBytes, what: 'allreduce of gradients' });
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /** Gives every rank rank 0's buffers (BatchNorm running statistics), when broadcastBuffers is on. */
  async syncBuffers(): Promise<void> {
    if (!this.broadcastBuffers || this.group.worldSize === 1) return;
    const buffers = [...this.module.namedBuffers().values()];
    if (buffers.length > 0) await this.group.broadcast(buffers, 0, 'broadcast of the buffers from rank 0');
  }

  /** Removes the reducer's hooks from the parameters; the model trains alone again. */
  dispose(): void {
    if (this.#reducer !== null) native.distReducerDestroy(this.#reducer.id);
    this.#reducer = null;
  }
}
