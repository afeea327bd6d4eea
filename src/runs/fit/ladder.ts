/**
 * The budget logic of `tlcv fit`, apart from any training: rungs are tried in order, each only
 * when the time it is predicted to take fits in what is left of the budget; the best by
 * validation score is kept (a tie keeps the earlier, cheaper one) and the others are released.
 * The clock, the predictions and the interrupt are injected, so tests drive it without timing
 * anything.
 */

/** What a rung knows when it runs: when it must be done by. */
export interface RungContext {
  /** Clock time (seconds) by which the rung must have finished; a training rung stops its fit there. */
  deadline: number;
  /** Seconds from now to the deadline. */
  seconds: number;
}

/** A rung's outcome: its validation score (accuracy, higher is better) and what it made. */
export interface RungResult<T> {
  score: number;
  model: T;
  /** One line on what it did (epochs, learning rate, folds). */
  note?: string;
  /** The same recipe trained on every image (after k-fold scoring); the caller decides whether to. */
  refit?: (deadline: number) => Promise<T>;
}

export interface Rung<T> {
  strategy: string;
  backbone: string;
  /**
   * Predicted seconds, asked just before the rung would run (so it can use what earlier rungs
   * measured); null when the rung does not apply (a longer fine-tune of a fine-tune that did not run).
   */
  predict(): number | null;
  /** A rung that fills the time it is given (the longer fine-tune) says the least it needs in predict and sizes itself from `ctx.seconds`. */
  run(ctx: RungContext): Promise<RungResult<T>>;
  /** Told the seconds it took against its prediction (the cost model learns from it). */
  measured?(seconds: number, predicted: number): void;
  /**
   * A later rung this one must not crowd out (feature extraction before fine-tuning), with the
   * least it is predicted to need: this rung is skipped when both do not fit but that one alone
   * does; when both fit, it is given only the time that leaves that one its least (a rung that
   * sizes itself to its time would otherwise take it all); when neither would, this one runs as
   * the fallback it is, with all the time left.
   */
  makesRoomFor?(): { strategy: string; seconds: number } | null;
}

export interface LeaderboardEntry {
  strategy: string;
  backbone: string;
  /** Validation accuracy (null: not run). */
  score: number | null;
  seconds: number;
  predicted: number | null;
  status: 'done' | 'skipped' | 'failed';
  note?: string;
}

export interface LadderOptions<T> {
  /** Wall-time budget in seconds, from `start`. */
  budget: number;
  /** Seconds kept back at the end for writing the model and report. */
  reserve: number;
  /** More seconds kept back for what follows the best so far (refitting it on every image). */
  reserveFor?: (best: LeaderboardEntry | null) => number;
  /** Seconds on some monotonic clock (performance.now()/1000 in the CLI). */
  clock: () => number;
  /** The clock's value when the budget started (default: its value at the call). */
  start?: number;
  /** A later rung replaces the best only when it scores more than this above it (default 0: strictly better). */
  margin?: number;
  /** True once the user asked to stop (Ctrl-C): no further rung starts. */
  interrupted?: () => boolean;
  /** Frees what a rung made that is not kept. */
  release: (model: T) => void;
  log?: (line: string) => void;
}

export interface LadderOutcome<T> {
  board: LeaderboardEntry[];
  /** The best rung's result and its leaderboard row; null when none ran to the end. */
  best: { entry: LeaderboardEntry; result: RungResult<T> } | null;
}

const fmt = (s: number): string => `${s.toFixed(s < 10 ? 1 : 0)}s`;

/**
 * Climbs `rungs` within the budget (see the file comment).
 *
 * @example
 * const { best, board } = await climb(rungs, { budget: 300, reserve: 10, clock: () => performance.now() / 1000, release: (m) => m.dispose() });
 */
export async function climb<T>(rungs: Rung<T>[], o: LadderOptions<T>): Promise<LadderOutcome<T>> {
  const start = o.start ?? o.clock();
  const fixedEnd = start + o.budget - o.reserve;
  const board: LeaderboardEntry[] = [];
  let best: LadderOutcome<T>['best'] = null;
  for (const rung of rungs) {
    const row = { strategy: rung.strategy, backbone: rung.backbone };
    if (o.interrupted?.() === true) {
      board.push({ ...row, score: null, seconds: 0, predicted: null, status: 'skipped', note: 'interrupted' });
      continue;
    }
    const predicted = rung.predict();
    if (predicted === null) {
      board.push({ ...row, score: null, seconds: 0, predicted: null, status: 'skipped', note: 'not applicable' });
      continue;
    }
    const now = o.clock();
    const end = fixedEnd - (o.reserveFor?.(best?.entry ?? null) ?? 0);
    const left = end - now;
    if (predicted > left) {
      board.push({ ...row, score: null, seconds: 0, predicted, status: 'skipped', note: `would take about ${fmt(predicted)}, ${fmt(Math.max(0, left))} left` });
      continue;
    }
    const later = rung.makesRoomFor?.() ?? null;
    if (later !== null && predicted + later.seconds > left && later.seconds <= left) {
      board.push({ ...row, score: null, seconds: 0, predicted, status: 'skipped', note: `left its ${fmt(predicted)} to ${later.strategy} (about ${fmt(later.seconds)}, ${fmt(left)} left)` });
      continue;
    }
    const room = later !== null && later.seconds <= left ? later.seconds : 0;
    o.log?.(`fit: ${rung.strategy} on ${rung.backbone} (about ${fmt(predicted)}, ${fmt(left)} left${room > 0 ? `, ${fmt(room)} of it kept for ${later!.strategy}` : ''})`);
    let result: RungResult<T>;
    try {
      result = await rung.run({ deadline: end - room, seconds: left - room });
    } catch (e) {
      const seconds = o.clock() - now;
      board.push({ ...row, score: null, seconds, predicted, status: 'failed', note: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
      o.log?.(`fit: ${rung.strategy} on ${rung.backbone} failed: ${board.at(-1)!.note}`);
      continue;
    }
    const seconds = o.clock() - now;
    rung.measured?.(seconds, predicted);
    const entry: LeaderboardEntry = { ...row, score: result.score, seconds, predicted, status: 'done', ...(result.note === undefined ? {} : { note: result.note }) };
    board.push(entry);
    o.log?.(`fit: ${rung.strategy} on ${rung.backbone}: validation accuracy ${(result.score * 100).toFixed(1)}% in ${fmt(seconds)}`);
    if (best === null || result.score > best.result.score + (o.margin ?? 0)) {
      if (best !== null) o.release(best.result.model);
      best = { entry, result };
    } else {
      o.release(result.model);
    }
  }
  return { board, best };
}

/**
 * The leaderboard as a Markdown table, best score first (rungs not run last, in ladder order).
 *
 * @example
 * console.log(leaderboardMarkdown(board));
 */
export function leaderboardMarkdown(board: LeaderboardEntry[], kept?: LeaderboardEntry): string {
  const ran = board.filter((e) => e.status === 'done').sort((a, b) => b.score! - a.score!);
  const rest = board.filter((e) => e.status !== 'done');
  const rows = [...ran, ...rest].map((e) => {
    const acc = e.score === null ? '—' : `${(e.score * 100).toFixed(1)}%`;
    const what = e.status === 'done' ? (e === kept ? 'kept' : '') : e.status;
    return `| ${e.strategy} | ${e.backbone} | ${acc} | ${e.status === 'done' ? fmt(e.seconds) : '—'} | ${e.predicted === null ? '—' : fmt(e.predicted)} | ${[what, e.note ?? ''].filter((s) => s !== '').join(': ')} |`;
  });
  return ['| strategy | backbone | validation accuracy | time | predicted | |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
