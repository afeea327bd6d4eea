/** What a bench section gets: the configuration, the data folder, the two workers, the report it fills. */
import type { BenchConfig } from './config.js';
import type { WorkerProcess } from './protocol.js';
import type { BenchReport } from './results.js';
import type { WorkerEnv } from './workers.js';

export interface BenchContext {
  cfg: BenchConfig;
  dir: string;
  tlcv: WorkerProcess;
  peer: WorkerProcess;
  log: (line: string) => void;
  report: BenchReport;
  workerEnv: WorkerEnv;
}
