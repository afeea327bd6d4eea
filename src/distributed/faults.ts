/**
 * Naming the rank behind a failed collective. Gloo reports a dead peer as "Connection reset by
 * peer [127.0.0.1]:41237" and a hung one as a timeout: neither says which rank. Every rank's
 * native heartbeat writes its beat count and the number of collectives it has started into the
 * store, so after a failure the survivors read them twice, a few heartbeats apart:
 * - a rank whose beat did not move is gone (killed, crashed, or frozen, as by SIGSTOP);
 * - a rank that beats but has started fewer collectives hangs elsewhere or runs other code;
 * - if the store itself does not answer, rank 0, which hosts it, is gone.
 */
import type { DistPeerState } from '../native/binding.js';
import { TlcvError, TorchError } from '../errors.js';

/** What the diagnosis needs from a process group. */
export interface FailedGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;
  /** "tcp://127.0.0.1:29500" or the store file. */
  readonly rendezvous: string;
  /** Who serves the store: "rank 0", or torchrun's agent. */
  readonly storeHost: string;
  /** Collectives this rank has started, the failed one included. */
  collectives(): number;
  peers(): Promise<DistPeerState[]>;
  peersSync(): DistPeerState[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const interval = (g: FailedGroup): number => Math.max(g.heartbeatMs, 50);

function causeText(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split('\n')[0]!.trim();
}

function name(p: DistPeerState | undefined, rank: number): string {
  return p?.who ? `rank ${rank} (${p.who})` : `rank ${rank}`;
}

/** Reads the peers' states, or null when the store does not answer within the deadline. */
async function snapshot(g: FailedGroup, deadlineMs: number): Promise<DistPeerState[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), deadlineMs);
  });
  try {
    return await Promise.race([g.peers().catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

function snapshotSync(g: FailedGroup): DistPeerState[] | null {
  try {
    return g.peersSync();
  } catch {
    return null;
  }
}

/** The explanation, from two readings of the heartbeats taken 2.5 beats apart (null: the store did not answer). */
function diagnose(g: FailedGroup, what: string, cause: unknown, mine: number, first: DistPeerState[] | null, second: DistPeerState[] | null): TlcvError {
  const me = g.rank;
  const head = `data-parallel training failed on rank ${me} of ${g.worldSize}`;
  const tail = `${what} (collective #${mine}) failed: ${causeText(cause)}`;
  if (first === null || second === null) {
    const who =
      g.storeHost !== 'rank 0' ? `the rendezvous store at ${g.rendezvous} (served by ${g.storeHost})` : me === 0 ? 'the rendezvous store in this process' : `rank 0, which hosts the rendezvous store at ${g.rendezvous},`;
    return new TlcvError('DISTRIBUTED', `${head}: ${who} does not answer: it died, is frozen, or its host is unreachable; ${tail}`);
  }
  const before = new Map(first.map((p) => [p.rank, p]));
  const stopped = second.filter((p) => p.rank !== me && (!p.seen || p.beat === before.get(p.rank)?.beat));
  if (stopped.length > 0) {
    const list = stopped.map((p) => name(p, p.rank)).join(', ');
    const s = stopped.length > 1;
    return new TlcvError(
      'DISTRIBUTED',
      `${head}: ${list} stopped: no heartbeat for ${((interval(g) * 2.5) / 1000).toFixed(1)} s (${s ? 'they' : 'it'} died, ${s ? 'were' : 'was'} killed, or ${s ? 'are' : 'is'} frozen); ${tail}`,
    );
  }
  const behind = second.filter((p) => p.rank !== me && p.collectives < mine);
  if (behind.length > 0) {
    const list = behind.map((p) => `${name(p, p.rank)} (at collective #${p.collectives})`).join(', ');
    return new TlcvError(
      'DISTRIBUTED',
      `${head}: ${list} is alive but did not reach collective #${mine} within ${(g.timeoutMs / 1000).toFixed(1)} s: it hangs or runs different code; ${tail}`,
    );
  }
  return new TlcvError('DISTRIBUTED', `${head}: ${tail}`);
}

function userError(g: FailedGroup, cause: unknown): TlcvError | null {
  return cause instanceof TorchError && cause.kind === 'distributed' ? new TlcvError('DISTRIBUTED', `data-parallel training failed on rank ${g.rank} of ${g.worldSize}: ${cause.message}`) : null;
}

/**
 * Explains a failed collective as one line that names the rank at fault, and returns it as a
 * TlcvError with code DISTRIBUTED. Takes about three heartbeats.
 *
 * @example
 * try { await group.allreduce(grads); } catch (e) { throw await explainFailure(group, 'allreduce of gradients', e); }
 */
export async function explainFailure(g: FailedGroup, what: string, cause: unknown): Promise<TlcvError> {
  const known = userError(g, cause);
  if (known) return known;
  const mine = g.collectives();
  const first = await snapshot(g, interval(g) * 3);
  await sleep(interval(g) * 2.5);
  const second = first === null ? null : await snapshot(g, interval(g) * 3);
  return diagnose(g, what, cause, mine, first, second);
}

/**
 * The same, blocking the JS thread (for loops whose per-step events cannot await). A store
 * that does not answer is waited for up to the store timeout.
 */
export function explainFailureSync(g: FailedGroup, what: string, cause: unknown): TlcvError {
  const known = userError(g, cause);
  if (known) return known;
  const mine = g.collectives();
  const first = snapshotSync(g);
  sleepSync(interval(g) * 2.5);
  const second = first === null ? null : snapshotSync(g);
  return diagnose(g, what, cause, mine, first, second);
}
