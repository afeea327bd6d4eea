/**
 * One worker of a distributed test run: joins the group from torchrun's environment
 * variables, trains (test/helpers/dist-train.ts) and, on rank 0, writes the outcome as JSON.
 * argv: the TrainSpec as JSON, the output path, then heartbeat and timeout in ms.
 * A failure prints its one-line message and exits 1, as a CLI worker would.
 */
import { writeFileSync } from 'node:fs';
import { initProcessGroup } from '../../src/distributed/index.js';
import { trainTiny, type TrainSpec } from './dist-train.js';

const [specJson, out, heartbeat, timeout] = process.argv.slice(2);
try {
  const group = await initProcessGroup({ heartbeatMs: Number(heartbeat), timeoutMs: Number(timeout) });
  const outcome = await trainTiny(JSON.parse(specJson!) as TrainSpec, group);
  if (group.isMain) writeFileSync(out!, JSON.stringify(outcome));
  group.destroy();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
