/**
 * One rank of a data-parallel Learner test run (test/helpers/dist-learner.ts), started by
 * tlcv's launcher: argv is the LearnerSpec as JSON and the output path; rank 0 writes the
 * outcome as JSON. A failure prints its one-line message and exits 1.
 */
import { writeFileSync } from 'node:fs';
import { initProcessGroup } from '../../src/distributed/index.js';
import { learnTiny, type LearnerSpec } from './dist-learner.js';

const [specJson, out] = process.argv.slice(2);
try {
  const group = await initProcessGroup({ heartbeatMs: 200, timeoutMs: 30_000 });
  const outcome = await learnTiny(JSON.parse(specJson!) as LearnerSpec, group);
  if (group.isMain) writeFileSync(out!, JSON.stringify(outcome));
  group.destroy();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
