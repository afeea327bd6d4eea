/** metrics.jsonl: one JSON line per epoch, written whole and atomically, and read back. */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { runPath } from '../io/run-folder.js';
import type { Callback, EpochRecord, LearnerView } from './callback.js';

/** The text of metrics.jsonl for a history. */
export function metricsText(history: EpochRecord[]): string {
  return history.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/**
 * A run's metrics.jsonl as epoch records ([] when there is none).
 *
 * @example
 * const history = readMetricsFile('runs/digits');
 */
export function readMetricsFile(dir: string): EpochRecord[] {
  const path = runPath(dir, 'metrics');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as EpochRecord);
}

/**
 * Writes `dir/metrics.jsonl` after every epoch, for runs without a {@link Checkpoint} (which
 * writes the same file together with each checkpoint, so that the two always agree; this
 * callback then leaves the file to it).
 *
 * @example
 * new Learner({ model, train, callbacks: [new MetricsLog('runs/quick')] });
 */
export class MetricsLog implements Callback {
  readonly order = 80;
  readonly name = 'metrics-log';
  #path = '';
  #deferred = false;

  constructor(readonly dir: string) {}

  beforeFit(learn: LearnerView): void {
    this.#deferred = learn.callbacks.some((c) => c.name === 'checkpoint' && (c as { dir?: string }).dir === this.dir);
    this.#path = runPath(learn.stage === undefined ? this.dir : join(this.dir, learn.stage), 'metrics');
  }

  afterEpoch(learn: LearnerView): void {
    // Rank 0 writes for a data-parallel run: every rank holds the same (summed) history.
    if (this.#deferred || !learn.isMain) return;
    mkdirSync(dirname(this.#path), { recursive: true });
    writeFileAtomic(this.#path, metricsText(learn.history));
  }
}
