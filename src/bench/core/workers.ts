/**
 * Starting the bench's worker processes: tlcv and the PyTorch peer, each with the same thread
 * count and OMP_WAIT_POLICY (PASSIVE unless the caller's environment says otherwise: libgomp's
 * spinning workers otherwise starve everything else on a small, busy machine).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../../errors.js';
import { WorkerProcess } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A file of this package (bin/tlcv.js, peers/serve_peer.py), found by walking up from here. */
export function packageFile(rel: string): string {
  let dir = here;
  for (let i = 0; i < 6; i += 1) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = dirname(dir);
  }
  throw new TlcvError('FILE', `${rel} not found above ${here}: it ships with the package`);
}

/** peers/<name> of this package (bench.py by default): the PyTorch side of a section. */
export function peerScript(name = 'bench.py'): string {
  return packageFile(join('peers', name));
}

export interface WorkerEnv {
  threads: number;
  python: string;
  /** Where the workers' stderr goes (null: kept for error messages only). */
  echo: ((line: string) => void) | null;
  /** URLs of the sections' tlcv job modules (BenchSection.tlcvJobs), served by every tlcv worker. */
  jobModules: string[];
}

// Each bench run times tlcv's execution plans afresh (src/execution/plan-tuning.ts), once per
// model and input for all its workers, rather than reusing choices cached by earlier runs.
let planCache: string | null = null;

/** The environment of every process the bench starts with `threads` threads. */
export function benchEnv(threads: number): NodeJS.ProcessEnv {
  planCache ??= join(mkdtempSync(join(tmpdir(), 'tlcv-bench-plans-')), 'plans.json');
  return {
    ...process.env,
    TLCV_THREADS: String(threads),
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    OMP_NUM_THREADS: String(threads),
    TLCV_PLAN_CACHE: process.env.TLCV_PLAN_CACHE ?? planCache,
  };
}

/** A tlcv worker (src/bench/core/worker.ts) serving every section's tlcv jobs. */
export function startTlcv(o: WorkerEnv, label = 'tlcv'): WorkerProcess {
  return new WorkerProcess(label, process.execPath, [join(here, 'worker.js'), ...o.jobModules], benchEnv(o.threads), o.echo);
}

/** The PyTorch worker, peers/bench.py. */
export function startPeer(o: WorkerEnv, label = 'pytorch'): WorkerProcess {
  // -u: unbuffered, so each answer line leaves as soon as it is written.
  return new WorkerProcess(label, o.python, ['-u', peerScript()], benchEnv(o.threads), o.echo);
}
