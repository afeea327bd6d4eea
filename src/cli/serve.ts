import { ENGINES, parseUnknown, SERVE_DEFAULTS } from '../deploy/index.js';
import { load } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

const d = SERVE_DEFAULTS;

export const serveCommand = defineCommand({
  name: 'serve',
  usage: 'tlcv serve --model DIR [--host 127.0.0.1] [--port 8080]',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR', required: true },
    host: { kind: 'string', help: 'address to listen on (0.0.0.0 or :: exposes the server to the network)', default: d.host, placeholder: 'ADDR' },
    port: { kind: 'int', help: 'port (0: any free port, printed at start)', min: 0, max: 65535, default: d.port, placeholder: 'N' },
    'max-batch': { kind: 'int', help: 'images per libtorch forward (1 turns micro-batching off)', min: 1, default: d.maxBatch, placeholder: 'N' },
    'max-wait-ms': { kind: 'number', help: 'how long a request waits for others to batch with', min: 0, default: d.maxWaitMs, placeholder: 'MS' },
    'batch-wait': { kind: 'string', help: 'adaptive: no wait while requests come one at a time, up to --max-wait-ms under load; fixed: always --max-wait-ms', choices: ['adaptive', 'fixed'], default: d.batchWait },
    'max-queue': { kind: 'int', help: 'images in the server at once (each file of a form counts); more are answered 503', min: 1, default: d.maxQueue, placeholder: 'N' },
    'max-body-mb': { kind: 'number', help: 'largest request body, in MiB (413 beyond)', min: 0, exclusiveMin: true, default: d.maxBodyBytes / 1024 / 1024, placeholder: 'MB' },
    'top-k': { kind: 'int', help: 'classes listed in each answer\'s "top"', min: 1, default: d.topK, placeholder: 'K' },
    'request-timeout-s': { kind: 'number', help: 'a request must arrive whole within this (its headers within 10 s); slower clients get 408 and are cut off', min: 0, exclusiveMin: true, default: d.requestTimeoutMs / 1000, placeholder: 'S' },
    'idle-release-s': { kind: 'number', help: 'free memory goes back to the system after this long without a request (0: never)', min: 0, default: d.idleReleaseMs / 1000, placeholder: 'S' },
    unknown: { kind: 'string', help: "answer unknown when the largest probability is below the model folder's calibrated threshold (auto; a folder trained without --unknown auto never does), never (off), or below VALUE", default: 'auto', placeholder: 'off|auto|VALUE' },
    engine: { kind: 'string', help: 'inference engine: auto times libtorch against onnxruntime on the first batch of each size (cached per model, batch, threads and CPU)', choices: ENGINES, default: 'auto' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const m = await load(f.model, { unknown: parseUnknown(f.unknown), engine: f.engine, log: (line) => console.error(`tlcv serve: ${line}`) });
    try {
      const server = await m.serve({
        host: f.host,
        port: f.port,
        maxBatch: f['max-batch'],
        maxWaitMs: f['max-wait-ms'],
        batchWait: f['batch-wait'],
        maxQueue: f['max-queue'],
        maxBodyBytes: Math.round(f['max-body-mb'] * 1024 * 1024),
        topK: f['top-k'],
        requestTimeoutMs: Math.round(f['request-timeout-s'] * 1000),
        idleReleaseMs: Math.round(f['idle-release-s'] * 1000),
        log: (line) => console.error(line),
      });
      console.error(`tlcv serve: ${m.name} (${m.classes.length} classes) listening on ${server.url} (POST /predict, GET /healthz, GET /)`);
      // SIGTERM and Ctrl-C: stop accepting, answer what is in flight, exit 0.
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          console.error(`tlcv serve: ${signal}: finishing in-flight requests`);
          void server.close().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      console.error('tlcv serve: stopped');
    } finally {
      m.dispose();
    }
    return 0;
  },
});
