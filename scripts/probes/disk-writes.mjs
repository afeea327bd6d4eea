// Preload that reports, when the process exits, how many bytes it wrote: `wchar` (handed to
// write calls, files and pipes alike) and `write_bytes` (sent to storage). By hand, on Linux:
//   node --import ./scripts/probes/disk-writes.mjs bin/tlcv.js demo --quick --out /tmp/demo
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  const io = Object.fromEntries(
    readFileSync('/proc/self/io', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(': ')),
  );
  const mb = (v) => `${(Number(v) / 2 ** 20).toFixed(0)} MiB`;
  process.stderr.write(`disk-writes: wchar ${mb(io.wchar)}, write_bytes ${mb(io.write_bytes)}\n`);
});
