/**
 * Checkpoints by time: by default one every 60 s (at the end of the epoch that passes the
 * mark), one at the end of the fit, and one on SIGINT/SIGTERM. A checkpoint always holds a
 * finished epoch, so resuming from it is exact; between writes, the newest finished epoch is
 * kept in memory, ready for a signal or a failure to write. metrics.jsonl is written in the same
 * atomic step (src/io/atomic-write.ts): a full disk leaves both files as they were, or neither.
 *
 * In a data-parallel run rank 0 alone reads and writes the folder: the other ranks only answer
 * signals, and on resume receive what rank 0 read (so another host needs no copy of the file).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import { cloneState, describePlan, disposeState } from '../execution/index.js';
import { removeStaleTempFiles, writeFileAtomic, writeFilesAtomic, type AtomicFile } from '../io/atomic-write.js';
import { RUN_FILES, checkRunFolder, clearRunFolder, runPath } from '../io/run-folder.js';
import type { Callback, CallbackState, LearnerView } from './callback.js';
import { checkpointChunks, checkpointPayload, parseCheckpoint, readCheckpoint, readCheckpointPlan, type CheckpointContents } from './checkpoint-file.js';
import { fromMain, shareFromMain } from './collective.js';
import { metricsText } from './metrics-log.js';

export interface CheckpointOptions {
  /** Seconds between checkpoints; 0 writes every epoch. Default 60. */
  everySeconds?: number;
  /** Continue from the checkpoint in the folder. */
  resume?: boolean;
  /** Replace a previous run in the folder (without it, a folder holding a run is refused). */
  overwrite?: boolean;
  /** Write a checkpoint and stop on SIGINT/SIGTERM (default true). */
  signals?: boolean;
  /** How the files are written (tests inject a failing writer). */
  write?: (files: AtomicFile[]) => void;
  /** Milliseconds now (tests). */
  now?: () => number;
}

/** A finished epoch held in memory until it is written or superseded. */
interface Snapshot {
  epoch: number;
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  metrics: string;
}

/**
 * @example
 * const learn = new Learner({ model, train, callbacks: [new Checkpoint('runs/a', { everySeconds: 120 })] });
 * await learn.fit(); // later, after a kill: new Checkpoint('runs/a', { resume: true })
 */
export class Checkpoint implements Callback {
  readonly order = 90;
  readonly name = 'checkpoint';
  readonly #o: CheckpointOptions;
  readonly #now: () => number;
  #runDir = '';
  #checked = false;
  #resuming = false;
  #lastWrite = 0;
  #onDisk = 0;
  #pending: Snapshot | null = null;
  #learn: LearnerView | null = null;
  #signalled = false;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#signalled || this.#learn === null) {
      // A second signal: the user means it. Leave with the default action.
      this.#removeHandlers();
      process.kill(process.pid, signal);
      return;
    }
    this.#signalled = true;
    this.#learn.interrupt(signal);
  };

  constructor(
    readonly dir: string,
    o: CheckpointOptions = {},
  ) {
    if (o.everySeconds !== undefined && !(o.everySeconds >= 0)) throw new TlcvError('ARGUMENT', `--checkpoint-every: expected a number of seconds >= 0, got ${o.everySeconds}`);
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
  }

  get #path(): string {
    return runPath(this.#runDir, 'checkpoint');
  }

  async beforeFit(learn: LearnerView): Promise<void> {
    this.#learn = learn;
    this.#runDir = learn.stage === undefined ? this.dir : join(this.dir, learn.stage);
    this.#onDisk = 0;
    this.#signalled = false;
    this.#resuming = false;
    this.#lastWrite = this.#now();
    if (this.#o.signals !== false) {
      process.on('SIGINT', this.#onSignal);
      process.on('SIGTERM', this.#onSignal);
    }
    if (learn.isMain) this.#openFolder(learn);
    else learn.savedNote = 'rank 0 writes the checkpoints';
    const c = learn.collective;
    // Whether to resume is rank 0's finding: only it may see the folder.
    if (c !== null && this.#o.resume === true) this.#resuming = (await fromMain(c, [Number(this.#resuming)], 'agreement on resuming'))[0] === 1;
  }

  #openFolder(learn: LearnerView): void {
    this.#resuming = this.#o.resume === true && existsSync(this.#path);
    if (this.#resuming) {
      const plan = readCheckpointPlan(this.#runDir);
      if (plan !== null) {
        // The interrupted run's plan, whatever the cache says now: the same plan gives the same metrics.
        learn.plan = { ...plan, device: learn.options.device };
        learn.log(`resuming with the checkpoint's plan: ${describePlan(learn.plan)}`);
      }
    } else if (this.#o.resume === true) {
      // A fine-tune whose head stage was checkpointed but whose main stage had not begun starts that stage afresh.
      if (learn.stage === undefined && !existsSync(runPath(join(this.dir, RUN_FILES.headStage), 'checkpoint'))) throw new TlcvError('FILE', `--resume: no checkpoint at ${this.#path}`);
    } else if (!this.#checked) {
      checkRunFolder(this.dir, { overwrite: this.#o.overwrite === true });
      if (this.#o.overwrite === true && existsSync(this.dir)) clearRunFolder(this.dir);
    }
    this.#checked = true;
    if (existsSync(this.#runDir)) removeStaleTempFiles(this.#runDir);
    learn.savedNote = 'no epoch had finished, so nothing was saved';
  }

  /** The checkpoint to resume from: read here, or on rank 0 and sent to every rank. */
  async #load(learn: LearnerView): Promise<CheckpointContents> {
    const c = learn.collective;
    if (c === null) return readCheckpoint(this.#runDir);
    const mine = c.isMain ? readCheckpoint(this.#runDir) : null;
    const shared = await shareFromMain(c, mine === null ? null : checkpointPayload(mine), "sharing rank 0's checkpoint");
    return mine ?? parseCheckpoint(shared.tensors, shared.metadata);
  }

  async afterSetup(learn: LearnerView): Promise<void> {
    if (!this.#resuming) return;
    const c = await this.#load(learn);
    const owned = Object.values(c.callbacks).map((s) => s.tensors ?? new Map<string, Tensor>());
    try {
      learn.model.loadStateDict(c.model);
      learn.optimizer!.load(c.optimizer, c.optimizerMeta);
    } catch (e) {
      for (const t of owned) disposeState(t);
      if (!(e instanceof TlcvError)) throw e;
      throw new TlcvError(e.code, `--resume: ${this.#path} was written by a run with another model, data or optimizer (resume with the same flags): ${e.message}`);
    } finally {
      disposeState(c.model);
      disposeState(c.optimizer);
    }
    learn.restoreRunState(c.run);
    const claimed = new Set<string>();
    for (const cb of learn.callbacks) {
      if (cb.name === undefined || cb.loadCheckpointState === undefined) continue;
      cb.loadCheckpointState(c.callbacks[cb.name] ?? {});
      claimed.add(cb.name);
    }
    for (const [name, s] of Object.entries(c.callbacks)) if (!claimed.has(name) && s.tensors) disposeState(s.tensors);
    this.#onDisk = c.run.epoch;
    if (!learn.isMain) return;
    // A kill in the middle of a write by an older tlcv could leave metrics.jsonl ahead of the
    // checkpoint (or a line cut short): the checkpoint is the truth.
    writeFileAtomic(runPath(this.#runDir, 'metrics'), metricsText(learn.history));
    learn.savedNote = `${this.#path} still holds epoch ${c.run.epoch}`;
    learn.log(`resuming from epoch ${c.run.epoch} of ${learn.epochs}`);
  }

  afterEpoch(learn: LearnerView): void {
    if (!learn.isMain) return;
    const every = (this.#o.everySeconds ?? 60) * 1000;
    const last = learn.epoch >= learn.epochs || learn.stopReason !== null;
    if (last || every === 0 || this.#now() - this.#lastWrite >= every) {
      this.#write(learn.epoch, checkpointPayload(this.#contents(learn)), metricsText(learn.history));
      learn.savedNote = `${this.#path} still holds epoch ${learn.epoch}`;
    } else {
      this.#dropPending();
      const p = checkpointPayload(this.#contents(learn));
      this.#pending = { epoch: learn.epoch, tensors: cloneState(p.tensors), metadata: p.metadata, metrics: metricsText(learn.history) };
    }
  }

  onError(learn: LearnerView): void {
    const p = this.#pending;
    // (The other ranks of a data-parallel run hold nothing pending: they write nothing.)
    if (p === null || p.epoch <= this.#onDisk) return;
    this.#write(p.epoch, p, p.metrics);
    learn.savedNote = `${this.#path} now holds epoch ${p.epoch}, the last that finished`;
  }

  cleanup(): void {
    this.#removeHandlers();
    this.#dropPending();
    this.#learn = null;
  }

  #contents(learn: LearnerView): Parameters<typeof checkpointPayload>[0] {
    const o = learn.optimizer!.state();
    const callbacks: Record<string, CallbackState> = {};
    for (const cb of learn.callbacks) if (cb.name !== undefined && cb.checkpointState !== undefined) callbacks[cb.name] = cb.checkpointState();
    return { model: learn.model.stateDict(), optimizer: o.tensors, optimizerMeta: o.meta, run: learn.runState(), callbacks };
  }

  #write(epoch: number, payload: { tensors: Map<string, Tensor>; metadata: Record<string, string> }, metrics: string): void {
    mkdirSync(this.#runDir, { recursive: true });
    const files: AtomicFile[] = [
      { path: this.#path, data: checkpointChunks(payload) },
      { path: runPath(this.#runDir, 'metrics'), data: metrics },
    ];
    (this.#o.write ?? writeFilesAtomic)(files);
    this.#onDisk = epoch;
    this.#lastWrite = this.#now();
    this.#dropPending();
  }

  #dropPending(): void {
    if (this.#pending !== null) disposeState(this.#pending.tensors);
    this.#pending = null;
  }

  #removeHandlers(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}
