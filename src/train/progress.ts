/** Progress output: a live bar on a TTY, plain lines otherwise (logs, CI, pipes). */
export interface ProgressSink {
  start(epoch: number, epochs: number, steps: number): void;
  step(done: number, images: number, loss: number): void;
  end(line: string): void;
  info(line: string): void;
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressSink {
  const tty = stream.isTTY === true;
  let steps = 0;
  let label = '';
  let t0 = 0;
  let lastDraw = 0;
  return {
    start(epoch, epochs, n) {
      steps = n;
      label = `epoch ${epoch}/${epochs}`;
      t0 = performance.now();
    },
    step(done, images, loss) {
      if (!tty || quiet) return;
      const now = performance.now();
      if (now - lastDraw < 100 && done < steps) return;
      lastDraw = now;
      const secs = (now - t0) / 1000;
      const rate = images / Math.max(secs, 1e-9);
      const eta = (secs / Math.max(done, 1)) * (steps - done);
      const width = 24;
      const filled = Math.round((done / Math.max(steps, 1)) * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      stream.write(`\r${label} ${bar} ${done}/${steps} loss ${loss.toFixed(4)} ${rate.toFixed(0)} img/s ETA ${formatEta(eta)}  `);
    },
    end(line) {
      if (quiet) return;
      if (tty) stream.write('\r\x1b[2K');
      stream.write(`${line}\n`);
    },
    info(line) {
      if (!quiet) stream.write(`${line}\n`);
    },
  };
}
