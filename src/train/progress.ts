/**
 * Progress output: a live bar on a terminal; off one (logs, CI, `tlcv demo | tee log`) plain
 * lines, one per epoch and one at least every 30 s within a long epoch, so a log never goes
 * quiet for minutes.
 */
import type { Callback, EpochRecord, LearnerView } from './callback.js';

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Print nothing, info lines included. */
  quiet?: boolean;
  /** Names the run in its summary line. */
  title?: string;
  /** A line for every epoch (default); false: at most one per `lineEverySeconds`, and the last. */
  everyEpoch?: boolean;
  /** The longest silence off a terminal, in seconds (default 30). */
  lineEverySeconds?: number;
  /** Milliseconds now (tests). */
  now?: () => number;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * The epoch line: losses, accuracies, learning rate, time and throughput.
 *
 * @example
 * formatEpoch({ epoch: 1, trainLoss: 0.5, trainAcc: 0.9, lr: 1e-3 }, 10, { seconds: 4.2, imagesPerSec: 950 });
 */
export function formatEpoch(r: EpochRecord, epochs: number, timing: { seconds: number; imagesPerSec: number }): string {
  const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
  const val = r.valAcc === undefined ? '' : `  val loss ${r.valLoss!.toFixed(4)} acc ${pct(r.valAcc)}`;
  return `epoch ${r.epoch}/${epochs}  loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainAcc)}${val}  lr ${r.lr.toExponential(2)}  ${timing.seconds.toFixed(1)}s ${timing.imagesPerSec.toFixed(0)} img/s`;
}

/**
 * @example
 * new Learner({ model, train, callbacks: [new Progress({ title: 'digits' })], quiet: true });
 */
export class Progress implements Callback {
  readonly order = 20;
  readonly name = 'progress';
  readonly #stream: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #o: ProgressOptions;
  readonly #now: () => number;
  #epochStart = 0;
  #lastDraw = 0;
  #lastLine = 0;
  #barShown = false;

  constructor(o: ProgressOptions = {}) {
    this.#o = o;
    this.#stream = o.stream ?? process.stderr;
    this.#tty = (o.stream ?? process.stderr).isTTY === true;
    this.#now = o.now ?? (() => performance.now());
    this.#lastLine = this.#now();
  }

  afterSetup(learn: LearnerView): void {
    const title = this.#o.title === undefined ? '' : `${this.#o.title}${learn.stage === undefined ? '' : ` (${learn.stage})`}: `;
    this.onLog(`${title}${learn.summary}`);
  }

  beforeEpoch(): void {
    this.#epochStart = this.#now();
  }

  afterBatch(learn: LearnerView): void {
    if (this.#o.quiet === true) return;
    const now = this.#now();
    const { steps, images, lossSum } = learn.epochProgress;
    const total = learn.train?.length ?? steps;
    const secs = (now - this.#epochStart) / 1000;
    const rate = `${(images / Math.max(secs, 1e-9)).toFixed(0)} img/s ETA ${formatEta((secs / Math.max(steps, 1)) * (total - steps))}`;
    const loss = (lossSum / Math.max(images, 1)).toFixed(4);
    if (this.#tty) {
      if (now - this.#lastDraw < 100 && steps < total) return;
      this.#lastDraw = now;
      const width = 24;
      const filled = Math.round((steps / Math.max(total, 1)) * width);
      this.#stream.write(`\r${`epoch ${learn.epoch}/${learn.epochs}`} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${steps}/${total} loss ${loss} ${rate}  `);
      this.#barShown = true;
    } else if (now - this.#lastLine >= (this.#o.lineEverySeconds ?? 30) * 1000 && steps < total) {
      this.#line(`epoch ${learn.epoch}/${learn.epochs}  step ${steps}/${total}  loss ${loss}  ${rate}`);
    }
  }

  afterEpoch(learn: LearnerView): void {
    const record = learn.history.at(-1);
    if (record === undefined) return;
    const last = learn.epoch >= learn.epochs || learn.stopReason !== null;
    const due = this.#now() - this.#lastLine >= (this.#o.lineEverySeconds ?? 30) * 1000;
    if (this.#o.everyEpoch === false && !last && !due) return;
    const seconds = learn.epochSeconds.at(-1) ?? 0;
    this.onLog(formatEpoch(record, learn.epochs, { seconds, imagesPerSec: learn.epochProgress.images / Math.max(seconds, 1e-9) }));
  }

  onLog(line: string): void {
    if (this.#o.quiet === true) return;
    this.#line(line);
  }

  #line(line: string): void {
    if (this.#barShown) this.#stream.write('\r\x1b[2K');
    this.#barShown = false;
    this.#stream.write(`${line}\n`);
    this.#lastLine = this.#now();
  }
}
