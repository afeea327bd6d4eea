// `tlcv serve` as users run it: the real binary listening on loopback. Concurrent requests are
// micro-batched and answered as `tlcv predict --json` answers; every kind of bad body gets its
// 4xx and the server keeps serving; a full queue answers 503; SIGTERM lets in-flight requests
// finish and exits 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { SERVE_DEFAULTS, startServer, type PredictionReport } from '../src/deploy/index.js';
import { load } from '../src/runs/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { CLASSES, writeModelFolder, writePhotos } from './helpers/deploy-fixture.js';
import { runCli, STACK_LINE } from './helpers/cli.js';
import { pollUntil } from './helpers/cli-async.js';

interface Served {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let root: string;
let folder: string;
let photos: string[];
let expected: Map<string, number[]>;
const running: Served[] = [];

async function serve(extra: string[]): Promise<Served> {
  const child = spawn(process.execPath, [resolve('bin', 'tlcv.js'), 'serve', '--model', folder, '--port', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on('close', (code, signal) => ok({ code, signal })));
  const url = await pollUntil(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1] ?? (child.exitCode !== null ? `exit ${child.exitCode}` : undefined), { what: 'tlcv serve to listen', everyMs: 50 });
  assert.match(url, /^http:/, err);
  const s = { url, child, stderr: () => err, exited };
  running.push(s);
  return s;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-serve-'));
  photos = await writePhotos(join(root, 'photos'), 3);
  folder = join(root, 'model');
  await writeModelFolder(folder, 'seed-cnn', photos);
  const r = runCli(['predict', '--model', folder, ...photos, '--json']);
  assert.equal(r.code, 0, r.stderr);
  expected = new Map((JSON.parse(r.stdout) as PredictionReport).predictions.map((p) => [basename(p.file), p.probabilities]));
});

after(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const photoBytes = (i: number): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(photos[i % photos.length]!));

function multipart(bytes: Uint8Array<ArrayBuffer>, name: string): FormData {
  const form = new FormData();
  form.append('note', 'a text field before the file');
  form.append('image', new Blob([bytes], { type: 'image/png' }), name);
  return form;
}

async function post(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/predict`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function health(url: string): Promise<{ status: string; inFlight: number; batches: number }> {
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  return (await res.json()) as { status: string; inFlight: number; batches: number };
}

async function assertServes(url: string, after: string): Promise<void> {
  const r = await post(url, photoBytes(0));
  assert.equal(r.status, 200, `still serving after ${after}: ${JSON.stringify(r.json)}`);
}

function assertMatchesPredict(report: PredictionReport, photo: number): void {
  assert.deepEqual(report.classes, CLASSES);
  assert.equal(report.predictions.length, 1);
  const p = report.predictions[0]!;
  const want = expected.get(basename(photos[photo % photos.length]!))!;
  p.probabilities.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-5, `class ${k}: ${v} against predict's ${want[k]}`));
  assert.equal(p.top.length, 5);
  assert.equal(p.top[0]!.index, want.indexOf(Math.max(...want)));
}

test('40 concurrent requests, raw and multipart, are micro-batched and answered as tlcv predict --json', async () => {
  const { url } = await serve(['--max-wait-ms', '20']);
  assert.equal((await health(url)).status, 'ok');
  const before = (await health(url)).batches;
  const replies = await Promise.all(
    Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? post(url, photoBytes(i)) : post(url, multipart(photoBytes(i), `upload-${i}.png`)))),
  );
  replies.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const report = r.json as unknown as PredictionReport;
    assertMatchesPredict(report, i);
    assert.equal(report.predictions[0]!.file, i % 2 === 0 ? 'request body' : `upload-${i}.png`);
  });
  const batches = (await health(url)).batches - before;
  assert.ok(batches >= 1 && batches < 40, `40 requests ran in ${batches} forwards`);
  assert.equal((await health(url)).inFlight, 0);
});

/** A request written by hand: chunked (no Content-Length), so only the server's count can stop it. */
function postChunked(url: string, total: number): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${url}/predict`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

test('every kind of bad body gets a clear 4xx, and the server keeps serving after each', async () => {
  const { url } = await serve(['--max-body-mb', '1']);
  const png = photoBytes(0);
  const big = new Uint8Array(2 * 1024 * 1024).fill(1);
  const cases: [string, () => Promise<{ status: number; json: Record<string, unknown> }>, number, RegExp][] = [
    ['an empty body', () => post(url, new Uint8Array(0)), 400, /body is empty/],
    ['text', () => post(url, 'this is not an image', { 'Content-Type': 'text/plain' }), 415, /request body: not an image/],
    ['a truncated PNG', () => post(url, png.subarray(0, Math.floor(png.length / 2))), 422, /request body: corrupt or unreadable/],
    ['a PNG with a corrupt middle', () => post(url, new Uint8Array(Buffer.concat([png.subarray(0, 100), Buffer.alloc(200, 0xff), png.subarray(300)]))), 422, /corrupt or unreadable/],
    ['an oversized body', () => post(url, big), 413, /over the 1048576-byte limit/],
    ['an oversized chunked body', async () => {
      const r = await postChunked(url, 3 * 1024 * 1024);
      return { status: r.status, json: JSON.parse(r.body) as Record<string, unknown> };
    }, 413, /over the 1048576-byte limit/],
    ['a form without a file', () => {
      const form = new FormData();
      form.append('image', 'just text');
      return post(url, form);
    }, 400, /multipart form has no file/],
    ['a form with an empty file', () => post(url, multipart(new Uint8Array(0), 'empty.png')), 400, /file empty\.png is empty/],
    ['a form with a non-image file', () => post(url, multipart(new TextEncoder().encode('hello') as Uint8Array<ArrayBuffer>, 'notes.png')), 415, /notes\.png: not an image/],
    ['a form with an oversized file', () => post(url, multipart(big, 'big.png')), 413, /over the 1048576-byte limit/],
    ['a broken form', () => post(url, '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated', { 'Content-Type': 'multipart/form-data; boundary=xyz' }), 400, /multipart form/],
    ['a form with no boundary', () => post(url, 'x', { 'Content-Type': 'multipart/form-data' }), 400, /bad multipart form/],
  ];
  for (const [what, send, status, message] of cases) {
    const r = await send();
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
    assert.match(String(r.json.error), message, what);
    await assertServes(url, what);
  }
  const get = await fetch(`${url}/predict`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  assert.equal((await fetch(`${url}/nothing-here`)).status, 404);
  await assertServes(url, 'a wrong method and path');
});

test('GET / serves the same web page as tlcv export --format web', async () => {
  const { url } = await serve([]);
  const out = join(root, 'web');
  const ex = runCli(['export', '--model', folder, '--format', 'web', '--out', out]);
  assert.equal(ex.code, 0, ex.stderr);
  for (const [path, file] of [['/', 'index.html'], ['/metadata.json', 'metadata.json'], ['/model.onnx', 'model.onnx'], ['/labels.txt', 'labels.txt']]) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 200, path);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(readFileSync(join(out, file!))), `${path} equals the exported ${file}`);
  }
});

test('a full queue answers 503 at once, and the server recovers', async () => {
  const { url } = await serve(['--max-queue', '2', '--max-wait-ms', '500', '--batch-wait', 'fixed', '--max-batch', '64']);
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => post(url, photoBytes(i))));
  const ok = replies.filter((r) => r.status === 200);
  const busy = replies.filter((r) => r.status === 503);
  assert.equal(ok.length + busy.length, 8, replies.map((r) => r.status).join(','));
  assert.ok(ok.length >= 1 && busy.length >= 1, `200s: ${ok.length}, 503s: ${busy.length}`);
  for (const r of busy) {
    assert.match(String(r.json.error), /busy: 2 images are being classified \(--max-queue 2\)/);
    assert.equal(r.headers.get('retry-after'), '1');
  }
  await assertServes(url, 'a full queue');
});

test('SIGTERM: in-flight requests are answered, then the server exits 0 and accepts nothing more', async () => {
  const s = await serve(['--max-wait-ms', '1500', '--batch-wait', 'fixed', '--max-batch', '64']);
  const pending = Array.from({ length: 5 }, (_, i) => post(s.url, photoBytes(i)));
  // All five are inside the server (waiting for their batch) when the signal comes.
  const deadline = Date.now() + 10_000;
  while ((await health(s.url)).inFlight < 5) {
    assert.ok(Date.now() < deadline, 'the requests reached the server');
    await new Promise((r) => setTimeout(r, 20));
  }
  s.child.kill('SIGTERM');
  const replies = await Promise.all(pending);
  replies.forEach((r, i) => {
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assertMatchesPredict(r.json as unknown as PredictionReport, i);
  });
  const exit = await s.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
  assert.match(s.stderr(), /SIGTERM: finishing in-flight requests\n.*stopped/s);
  await assert.rejects(fetch(`${s.url}/healthz`), 'nothing listens any more');
});

test('a port in use and an unknown host are one-line user errors', async () => {
  const blocker = createServer();
  await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
  const port = String((blocker.address() as AddressInfo).port);
  try {
    for (const [args, message] of [
      [['--port', port], new RegExp(`^tlcv serve: --port ${port}: 127\\.0\\.0\\.1:${port} is already in use$`, 'm')],
      [['--host', 'no-such-host.invalid', '--port', '0'], /^tlcv serve: --host no-such-host\.invalid: no such host name$/m],
    ] as [string[], RegExp][]) {
      const r = runCli(['serve', '--model', folder, ...args], { timeoutMs: 60_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, STACK_LINE);
    }
  } finally {
    blocker.close();
  }
});

test('serving many requests leaves no tensor behind (in-process server)', async () => {
  const clf = await load(folder);
  const server = await startServer(clf, { ...SERVE_DEFAULTS, port: 0, maxWaitMs: 2 });
  try {
    await assertServes(server.url, 'start');
    const before = liveTensors().count;
    for (let round = 0; round < 6; round += 1) {
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => post(server.url, photoBytes(i))));
      for (const r of replies) assert.equal(r.status, 200);
      await post(server.url, new TextEncoder().encode('not an image') as Uint8Array<ArrayBuffer>);
    }
    assert.equal(liveTensors().count, before, 'live tensors after 60 predictions and 6 refusals');
  } finally {
    await server.close();
    clf.dispose();
  }
});
