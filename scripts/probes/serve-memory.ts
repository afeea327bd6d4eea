/**
 * Where `tlcv serve`'s memory lives under load and after it (issue 21): a model folder (random
 * weights, a photo model's preprocessing) served by the real binary, `clients` keep-alive
 * clients POSTing JPEG and PNG photos for `loadSeconds`, then idle for `idleSeconds`. Every
 * `every` seconds it prints the server's RSS with /proc/PID/smaps split into the main heap,
 * glibc's thread arenas (64 MiB-aligned heaps), other anonymous memory (large malloc chunks,
 * V8, stacks) and files, and what /healthz says of the CPU cache, malloc and the JS heap. By hand:
 *   node dist/scripts/probes/serve-memory.js mobilenet_v2 32 60 40 [-- extra tlcv serve flags]
 * (MODEL CLIENTS LOAD_SECONDS IDLE_SECONDS [EVERY_SECONDS]; MODEL may name its input size: mobilenet_v2@160)
 * Compare with TLCV_CPU_CACHE_MB=0 (no tensor-memory cache) or MALLOC_ARENA_MAX=1 in the
 * environment, which the server inherits.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/tensor/index.js';
import { saveModelFolder } from '../../src/runs/index.js';
import { resolveDataConfig } from '../../src/data/index.js';

const dashes = process.argv.indexOf('--');
const args = dashes < 0 ? process.argv.slice(2) : process.argv.slice(2, dashes);
const extra = dashes < 0 ? [] : process.argv.slice(dashes + 1);
const [model = 'mobilenet_v2', clients = '32', loadSeconds = '60', idleSeconds = '40', every = '5'] = args;
const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/tlcv.js');
const MiB = (b: number): string => `${(b / 1048576).toFixed(0)}`;

async function prepare(dir: string): Promise<{ folder: string; photos: Uint8Array[] }> {
  manualSeed(1);
  const [name, size] = model.split('@');
  const m = createModel(name!, { numClasses: 10, ...(size === undefined ? {} : { inputSize: [Number(size), Number(size)] as [number, number] }) });
  const folder = join(dir, model);
  saveModelFolder(folder, m, { classes: Array.from({ length: 10 }, (_, i) => `c${i}`), preprocess: resolveDataConfig({ model: m.config }) });
  m.dispose();
  mkdirSync(join(dir, 'photos'));
  const photos: Uint8Array[] = [];
  for (const [i, [w, h]] of [[1024, 768], [640, 480], [336, 336], [800, 1200]].entries()) {
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p += 1) {
      const [x, y] = [p % w, Math.floor(p / w)];
      px[3 * p] = 128 + 100 * Math.sin((x + i * 7) / 9);
      px[3 * p + 1] = 128 + 100 * Math.cos((y * (i + 1)) / 13);
      px[3 * p + 2] = (x * y + i * 31) % 256;
    }
    const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
    photos.push(new Uint8Array(await (i % 2 === 0 ? img.jpeg({ quality: 90 }) : img.png()).toBuffer()));
  }
  return { folder, photos };
}

/** RSS of a process split by what the mappings are, in bytes. */
function smaps(pid: number): Record<string, number> {
  const out: Record<string, number> = { heap: 0, arenas: 0, anon: 0, file: 0 };
  let kind = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const [start, end, path] = [BigInt(`0x${head[1]}`), BigInt(`0x${head[2]}`), head[3]!];
      // A thread arena's heap is mapped 64 MiB-aligned and at most 64 MiB long (glibc's HEAP_MAX_SIZE).
      const aligned = start % (64n << 20n) === 0n && end - start <= 64n << 20n;
      kind = path === '[heap]' ? 'heap' : path.startsWith('/') ? 'file' : path === '' && aligned ? 'arenas' : 'anon';
    } else if (line.startsWith('Rss:')) out[kind]! += Number(/(\d+)/.exec(line)![1]) * 1024;
  }
  return out;
}

function postOnce(agent: Agent, url: URL, body: Uint8Array): Promise<number> {
  return new Promise((ok) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    req.on('error', () => ok(0));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-serve-memory-'));
  try {
    const { folder, photos } = await prepare(dir);
    const child = spawn(process.execPath, [bin, 'serve', '--model', folder, '--port', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    while (!/listening on (http:\S+)/.test(err)) {
      if (child.exitCode !== null) throw new Error(err);
      await new Promise((r) => setTimeout(r, 100));
    }
    const base = /listening on (http:\S+)/.exec(err)![1]!;
    const t0 = Date.now();
    const sample = async (phase: string): Promise<void> => {
      const s = smaps(child.pid!);
      const h = (await (await fetch(`${base}/healthz`)).json()) as { batches: number; memory?: Record<string, number> };
      const rss = Object.values(s).reduce((a, b) => a + b, 0);
      const mem = h.memory === undefined ? '' : ' | ' + Object.entries(h.memory).map(([k, v]) => `${k.replace(/Bytes$/, '')} ${k.endsWith('Bytes') ? MiB(v) : v}`).join(', ');
      console.log(`${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s ${phase.padEnd(5)} RSS ${MiB(rss)} MiB: heap ${MiB(s.heap!)}, arenas ${MiB(s.arenas!)}, other anon ${MiB(s.anon!)}, files ${MiB(s.file!)}${mem} | ${h.batches} batches`);
    };
    await new Promise((r) => setTimeout(r, 2000));
    await sample('idle');
    const url = new URL(`${base}/predict`);
    const agent = new Agent({ keepAlive: true, maxSockets: Number(clients) });
    const end = Date.now() + Number(loadSeconds) * 1000;
    let done = 0;
    let errors = 0;
    const client = async (k: number): Promise<void> => {
      for (let i = k; Date.now() < end; i += 1) {
        if ((await postOnce(agent, url, photos[i % photos.length]!)) === 200) done += 1;
        else errors += 1;
      }
    };
    const load = Promise.all(Array.from({ length: Number(clients) }, (_, k) => client(k)));
    const timer = setInterval(() => void sample('load'), Number(every) * 1000);
    await load;
    clearInterval(timer);
    agent.destroy();
    console.log(`load: ${done} answers (${(done / Number(loadSeconds)).toFixed(1)}/s), ${errors} errors`);
    await sample('end');
    for (let t = 0; t < Number(idleSeconds); t += Number(every)) {
      await new Promise((r) => setTimeout(r, Number(every) * 1000));
      await sample('after');
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
