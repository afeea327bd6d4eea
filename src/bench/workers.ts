/**
 * Starting the bench's worker processes: tlcv, the PyTorch peer and TF.js, each with the same
 * thread count and OMP_WAIT_POLICY (PASSIVE unless the caller's environment says otherwise:
 * libgomp's spinning workers otherwise starve everything else on a small, busy machine).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import { WorkerProcess } from './protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

/** peers/<name> of this package (bench.py by default), found by walking up from this file. */
export function peerScript(name = 'bench.py'): string {
  let dir = here;
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'peers', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new TlcvError('FILE', `peers/${name} not found above ${here}: the PyTorch peer script ships with the package`);
}

export interface WorkerEnv {
  threads: number;
  python: string;
  /** Where the workers' stderr goes (null: kept for error messages only). */
  echo: ((line: string) => void) | null;
}

// Each bench run times tlcv's execution plans afresh (src/execution/plan-tuning.ts), once per
// model and input for all its workers, rather than reusing choices cached by earlier runs.
let planCache: string | null = null;

export function env(threads: number): NodeJS.ProcessEnv {
  planCache ??= join(mkdtempSync(join(tmpdir(), 'tlcv-bench-plans-')), 'plans.json');
  return {
    ...process.env,
    TLCV_THREADS: String(threads),
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    OMP_NUM_THREADS: String(threads),
    TLCV_PLAN_CACHE: process.env.TLCV_PLAN_CACHE ?? planCache,
  };
}

export function startTlcv(o: WorkerEnv, label = 'tlcv'): WorkerProcess {
  return new WorkerProcess(label, process.execPath, [join(here, 'worker.js')], env(o.threads), o.echo);
}

export function startPeer(o: WorkerEnv, label = 'pytorch'): WorkerProcess {
  // -u: unbuffered, so each answer line leaves as soon as it is written.
  return new WorkerProcess(label, o.python, ['-u', peerScript()], env(o.threads), o.echo);
}

export function startTfjs(o: WorkerEnv): WorkerProcess {
  return new WorkerProcess('tfjs', process.execPath, [join(here, 'tfjs-worker.js')], env(o.threads), o.echo);
}
