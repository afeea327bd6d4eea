/**
 * The tlcv worker process of `tlcv bench`: started by the harness with TLCV_THREADS and
 * OMP_WAIT_POLICY set, it answers jobs on stdin (see protocol.ts) with the handlers of the job
 * modules named in its arguments (each section's tlcvJobs, src/bench/registry.ts) and `hello`.
 * Not meant to be run by hand.
 */
import { getNumThreads } from '../../tensor/index.js';
import { candidatePlans, describePlan } from '../../execution/index.js';
import { serveJobs, type JobHandlers } from './protocol.js';
import type { HelloResult } from './jobs.js';

function hello(): HelloResult {
  return {
    threads: getNumThreads(),
    ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null,
    plan: `fastest timed of ${candidatePlans({ precision: 'auto', channelsLast: 'auto', device: 'cpu' }).map(describePlan).join(', ')}`,
  };
}

const handlers: JobHandlers = { hello: () => hello() };
for (const url of process.argv.slice(2)) {
  const { jobs } = (await import(url)) as { jobs: JobHandlers };
  for (const [kind, handler] of Object.entries(jobs)) {
    // Two sections answering one kind would silently answer for each other.
    if (handlers[kind] !== undefined) throw new Error(`job kind ${kind} of ${url} is already served by another section`);
    handlers[kind] = handler;
  }
}
await serveJobs(handlers);
