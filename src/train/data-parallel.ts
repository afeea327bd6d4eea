/**
 * Data-parallel training through the Learner, as one callback: every rank runs the same
 * Learner with `new DataParallel(group)`, and the fit becomes PyTorch DDP's:
 * - before set-up every rank takes rank 0's weights, so the plan timing and a frozen prefix's
 *   cached outputs see one model; after set-up (and a resumed checkpoint) c10d's Reducer is
 *   built over the trainable parameters;
 * - each step: rank 0's buffers (BatchNorm's running statistics) before the forward, and the
 *   reducer armed in afterLoss, so the Learner's own backward returns with the gradients
 *   averaged over the ranks, each bucket's allreduce overlapping the rest of backward;
 * - the Learner (seeing `collective`) splits the data, agrees on the plan, each step's loss
 *   and interrupts, sums the epoch's metrics, and lets rank 0 alone write files.
 *
 * Order 95: afterLoss must come after every callback that adds to the loss (DANN's domain term,
 * order 50 by default), since the reducer is armed for the final loss; before the Report (100).
 */
import type { ProcessGroup } from '../distributed/index.js';
import { DistributedDataParallel, type DdpOptions } from '../distributed/index.js';
import type { Callback, LearnerView } from './callback.js';

/**
 * @example
 * const group = await initProcessGroup();            // RANK, WORLD_SIZE, ... from `tlcv --nproc` or torchrun
 * const learn = new Learner({ model, train, val, options: { batchSize: 128 }, callbacks: [new DataParallel(group)] });
 * await learn.fit();                                 // --batch-size is the global batch: 64 per rank with 2
 * if (learn.isMain) saveModelFolder('runs/ddp', model, { classes: train.classes, preprocess }); // rank 0 alone writes
 * group.destroy();
 */
export class DataParallel implements Callback {
  readonly order = 95;
  readonly name = 'data-parallel';
  readonly collective: ProcessGroup;
  #ddp: DistributedDataParallel | null = null;
  /** Between afterLoss and afterBackward: an error then comes from the armed backward. */
  #inBackward = false;

  constructor(
    readonly group: ProcessGroup,
    readonly options: DdpOptions = {},
  ) {
    this.collective = group;
  }

  /** The DDP wrapper of the current fit (null outside one). */
  get ddp(): DistributedDataParallel | null {
    return this.#ddp;
  }

  async beforeFit(learn: LearnerView): Promise<void> {
    const states = [...learn.model.parameters(), ...learn.model.namedBuffers().values()];
    await this.group.broadcast(states, 0, 'broadcast of the model from rank 0');
  }

  async afterSetup(learn: LearnerView): Promise<void> {
    this.#ddp = await DistributedDataParallel.create(learn.model, this.group, this.options);
  }

  beforeBatch(): void {
    this.#ddp!.syncBuffersSync();
  }

  afterLoss(learn: LearnerView): void {
    this.#ddp!.prepareForBackward(learn.loss!);
    this.#inBackward = true;
  }

  afterBackward(): void {
    this.#inBackward = false;
  }

  async beforeValidate(): Promise<void> {
    // Each rank scores its part of the validation data with the same model: rank 0's buffers.
    await this.#ddp!.syncBuffers();
  }

  replaceError(_learn: LearnerView, error: unknown): unknown {
    if (!this.#inBackward || this.#ddp === null) return undefined;
    this.#inBackward = false;
    return this.#ddp.explainBackward(error);
  }

  cleanup(): void {
    this.#ddp?.dispose();
    this.#ddp = null;
    this.#inBackward = false;
  }
}
