// `tlcv serve` under faults, on loopback: a drain on SIGTERM under keep-alive load (every answer
// says Connection: close, no client that honours it sees ECONNRESET), multipart forms with
// several files and malformed ones, slow headers and a slow body (cut off by the timeouts),
// clients that go away mid-upload, 1,000 idle keep-alive connections, and the model folder
// deleted while serving. After each the server answers, and keeps no request nor tensor.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { SERVE_DEFAULTS, startServer, type PredictionReport } from '../src/deploy/index.js';
import { load } from '../src/runs/index.js';
import { liveTensors } from '../src/tensor/index.js';
import { writeModelFolder, writePhotos } from './helpers/deploy-fixture.js';
import { runCli } from './helpers/cli.js';
import { pollUntil } from './helpers/cli-async.js';
import { health, startServe, type ServeProcess } from './helpers/serve-process.js';

let root: string;
let folder: string;
let photos: string[];
let expected: Map<string, number[]>;
const running: ServeProcess[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tlcv-serve-faults-'));
  photos = await writePhotos(join(root, 'photos'), 3);
  folder = join(root, 'model');
  await writeModelFolder(folder, 'seed-cnn', photos);
  const r = runCli(['predict', '--model', folder, ...photos, '--json']);
  assert.equal(r.code, 0, r.stderr);
  expected = new Map((JSON.parse(r.stdout) as PredictionReport).predictions.map((p) => [basename(p.file), p.probabilities]));
});

after(() => {
  for (const s of running) s.stop();
  rmSync(root, { recursive: true, force: true });
});

async function serve(model: string, extra: string[] = []): Promise<ServeProcess> {
  const s = await startServe(model, extra);
  running.push(s);
  return s;
}

const photoBytes = (i: number): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(photos[i % photos.length]!));

async function post(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/predict`, { method: 'POST', body, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function assertServes(url: string, after: string): Promise<void> {
  const r = await post(url, photoBytes(0));
  assert.equal(r.status, 200, `still serving after ${after}: ${JSON.stringify(r.json)}`);
}

function form(files: { name: string; bytes: Uint8Array<ArrayBuffer> }[]): FormData {
  const f = new FormData();
  f.append('note', 'a text field among the files');
  for (const { name, bytes } of files) f.append('images', new Blob([bytes], { type: 'image/png' }), name);
  return f;
}

function assertLikePredict(p: PredictionReport['predictions'][number], photo: string): void {
  const want = expected.get(photo)!;
  assert.equal(p.file, photo);
  p.probabilities.forEach((v, k) => assert.ok(Math.abs(v - want[k]!) < 1e-5, `${photo} class ${k}: ${v} against predict's ${want[k]}`));
}

/** A raw connection to the server, and everything it received until the server closed it. */
function rawConnection(url: string): { socket: Socket; received: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  return { socket, received: new Promise((ok) => socket.on('close', () => ok(text))) };
}

async function inFlightBecomes(url: string, n: number): Promise<void> {
  while ((await health(url)).inFlight !== n) await new Promise((r) => setTimeout(r, 20));
}

/** Resolves with what `promise` gives, or fails the test after `ms` (a bound for a hang, not a speed check). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, no) => (timer = setTimeout(() => no(new Error(`${what}: nothing after ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}

test('SIGTERM under keep-alive load: answers from then on say Connection: close, an idle kept-alive connection is still answered, and no client sees ECONNRESET', { timeout: 90_000 }, async () => {
  const s = await serve(folder, ['--max-wait-ms', '150', '--batch-wait', 'fixed', '--max-batch', '64']);
  const draining = (): boolean => /SIGTERM: finishing in-flight requests/.test(s.stderr());
  const target = new URL(`${s.url}/predict`);
  const postOn = (agent: Agent, i: number): Promise<{ status: number; connection: string; reused: boolean }> =>
    new Promise((ok, no) => {
      const body = photoBytes(i);
      const req = request(target, { method: 'POST', agent, headers: { 'Content-Type': 'image/png', 'Content-Length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode ?? 0, connection: String(res.headers.connection), reused: req.reusedSocket }));
      });
      req.on('error', no);
      req.end(body);
    });
  type Answer = { startedDraining: boolean; status: number; connection: string };
  const answers: Answer[] = [];
  const errors: string[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  const client = async (k: number): Promise<void> => {
    for (let i = k; ; i += 1) {
      const startedDraining = draining();
      try {
        answers.push({ startedDraining, ...(await postOn(agent, i)) });
      } catch (e) {
        // Once the listener is closed, a new connection is refused: what a client that honours Connection: close meets.
        errors.push((e as NodeJS.ErrnoException).code ?? String(e));
        return;
      }
    }
  };
  // One client whose kept-alive connection is idle when the signal comes.
  const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const first = await postOn(idleAgent, 0);
  assert.equal(first.connection, 'keep-alive');
  const clients = Array.from({ length: 6 }, (_, k) => client(k));
  await pollUntil(() => (answers.length >= 12 ? true : undefined), { what: '12 answers before the signal', timeoutMs: 30_000 });
  s.child.kill('SIGTERM');
  await pollUntil(() => (draining() ? true : undefined), { what: 'the server to start draining', timeoutMs: 10_000 });
  const second = await postOn(idleAgent, 1);
  assert.deepEqual(second, { status: 200, connection: 'close', reused: true }, 'the idle connection brought one more request, answered, and told to close');
  await within(Promise.all(clients), 30_000, 'the clients');
  const exit = await within(s.exited, 30_000, 'the server to exit');
  assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
  assert.deepEqual([...new Set(errors)], ['ECONNREFUSED'], `each client ends on a refused new connection, never a reset: ${errors.join(', ')}`);
  for (const a of answers) assert.equal(a.status, 200);
  const afterSignal = answers.filter((a) => a.startedDraining);
  for (const a of afterSignal) assert.equal(a.connection, 'close', 'a request sent while draining is answered with Connection: close');
  assert.ok(answers.filter((a) => a.connection === 'close').length >= 6, `every busy client's last answer closes its connection: ${answers.map((a) => a.connection).join(',')}`);
  agent.destroy();
  idleAgent.destroy();
});

test('a multipart form with several files is answered for every file, in order, as tlcv predict --json answers them; a bad file, too many files or too many bytes refuse it whole', { timeout: 90_000 }, async () => {
  const s = await serve(folder, ['--max-body-mb', '1']);
  const names = photos.map((p) => basename(p));
  const r = await post(s.url, form(photos.map((p, i) => ({ name: names[i]!, bytes: photoBytes(i) }))));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const report = r.json as unknown as PredictionReport;
  assert.equal(report.predictions.length, photos.length);
  report.predictions.forEach((p, i) => assertLikePredict(p, names[i]!));
  assert.ok(report.predictions.every((p) => p.top.length === 5));

  const bad = await post(s.url, form([{ name: names[0]!, bytes: photoBytes(0) }, { name: 'notes.png', bytes: new TextEncoder().encode('hello') as Uint8Array<ArrayBuffer> }]));
  assert.equal(bad.status, 415, JSON.stringify(bad.json));
  assert.match(String(bad.json.error), /notes\.png: not an image/);
  const many = await post(s.url, form(Array.from({ length: 65 }, (_, i) => ({ name: `f${i}.png`, bytes: new Uint8Array(16).fill(i) }))));
  assert.equal(many.status, 413, JSON.stringify(many.json));
  assert.match(String(many.json.error), /more than 64 files/);
  // Three files under the limit each, over it together: the limit holds for the whole body.
  const third = new Uint8Array(400 * 1024).fill(3);
  const big = await post(s.url, form([0, 1, 2].map((i) => ({ name: `part${i}.png`, bytes: third }))));
  assert.equal(big.status, 413, JSON.stringify(big.json));
  assert.match(String(big.json.error), /over the 1048576-byte limit/);
  await assertServes(s.url, 'forms with several files');
  assert.equal((await health(s.url)).inFlight, 0);
});

test('a malformed multipart form gets a 400 that names what is wrong, and the server keeps serving', { timeout: 90_000 }, async () => {
  const s = await serve(folder);
  const type = { 'Content-Type': 'multipart/form-data; boundary=xyz' };
  const head = '--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n';
  const cases: [string, BodyInit, Record<string, string>, RegExp][] = [
    ['no part', 'just some bytes, no boundary in them', type, /no part starts with the boundary "--xyz" that the Content-Type names/],
    ['no closing boundary', `${head}PNG...`, type, /the body ends inside a part: the closing boundary "--xyz--" never came/],
    ['a part header without a colon', '--xyz\r\nContent-Disposition form-data\r\n\r\nx\r\n--xyz--\r\n', type, /a part has malformed headers/],
    ['no boundary in the Content-Type', 'x', { 'Content-Type': 'multipart/form-data' }, /names no boundary/],
    ['no file part', '--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--xyz--\r\n', type, /the multipart form has no file/],
  ];
  for (const [what, body, headers, message] of cases) {
    const r = await post(s.url, body, headers);
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
    assert.match(String(r.json.error), /^(bad multipart form: |the multipart form)/, what);
    assert.match(String(r.json.error), message, what);
    await assertServes(s.url, what);
  }
  assert.equal((await health(s.url)).inFlight, 0);
});

test('slow headers and a slow body are cut off (408, connection closed); clients gone mid-upload leave nothing behind; the server answers throughout', { timeout: 90_000 }, async () => {
  const clf = await load(folder);
  const server = await startServer(clf, { ...SERVE_DEFAULTS, port: 0, headersTimeoutMs: 1000, requestTimeoutMs: 2500, idleReleaseMs: 0 });
  const trickles: NodeJS.Timeout[] = [];
  try {
    await assertServes(server.url, 'start');
    const tensors = liveTensors().count;
    // Headers one line at a time, for ever.
    const slowHeaders = rawConnection(server.url);
    slowHeaders.socket.write('POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\n');
    trickles.push(setInterval(() => slowHeaders.socket.writable && slowHeaders.socket.write('X-Slow: a\r\n'), 200));
    // Whole headers, then the body a hundred bytes at a time.
    const slowBody = rawConnection(server.url);
    slowBody.socket.write('POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\nContent-Length: 50000\r\n\r\n');
    trickles.push(setInterval(() => slowBody.socket.writable && slowBody.socket.write(Buffer.alloc(100, 1)), 200));
    await assertServes(server.url, 'two slow clients connecting');
    for (const [what, c] of [['slow headers', slowHeaders], ['a slow body', slowBody]] as const) {
      const text = await within(c.received, 20_000, `${what}: the server to close the connection`);
      assert.match(text, /^HTTP\/1\.1 408 /, `${what}: answered 408 Request Timeout, then closed`);
    }
    // Clients that close their connection halfway through the body: raw bytes, and a form.
    const png = photoBytes(0);
    const gone = [
      ['raw', 'image/png', png.length, png.subarray(0, png.length >> 1)],
      ['multipart', 'multipart/form-data; boundary=xyz', png.length + 200, Buffer.concat([Buffer.from('--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'), png.subarray(0, png.length >> 1)])],
    ] as const;
    for (const [what, type, length, part] of gone) {
      const c = rawConnection(server.url);
      c.socket.write(`POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`);
      c.socket.write(part);
      // The request is inside the server, reading its body, when the client goes.
      await within(inFlightBecomes(server.url, 1), 10_000, `${what}: the request to reach the server`);
      c.socket.destroy();
      await within(inFlightBecomes(server.url, 0), 10_000, `${what}: the request to leave the server`);
      await assertServes(server.url, `a ${what} client gone mid-upload`);
    }
    assert.equal(liveTensors().count, tensors, 'live tensors after the faults');
  } finally {
    trickles.forEach((t) => clearInterval(t));
    // Bounded: a request that never leaves the server would hold close() for ever.
    await within(server.close(), 30_000, 'the server to close');
    clf.dispose();
  }
});

test('1,000 idle keep-alive connections: the server answers beside them, then closes them past the keep-alive timeout', { timeout: 90_000 }, async () => {
  const s = await serve(folder);
  const conns: { socket: Socket; received: Promise<string> }[] = [];
  for (let batch = 0; batch < 10; batch += 1) {
    const opened = Array.from({ length: 100 }, () => {
      const c = rawConnection(s.url);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      conns.push(c);
      return new Promise<void>((ok) => c.socket.once('data', () => ok()));
    });
    await within(Promise.all(opened), 30_000, `connections ${batch * 100}..${batch * 100 + 99} to be answered`);
  }
  let closed = 0;
  for (const c of conns) void c.received.then(() => (closed += 1));
  assert.ok(closed < conns.length, 'the connections are open and idle');
  const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => post(s.url, form([{ name: basename(photos[i % 3]!), bytes: photoBytes(i) }]))));
  for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((await health(s.url)).status, 'ok');
  await within(pollUntil(() => (closed === conns.length ? true : undefined), { what: 'every idle connection closed', timeoutMs: 60_000, everyMs: 100 }), 60_000, 'the idle connections');
  await assertServes(s.url, '1,000 idle connections');
});

test('the model folder deleted while serving: predictions, the web page and its model come from memory', { timeout: 90_000 }, async () => {
  const doomed = join(root, 'doomed');
  cpSync(folder, doomed, { recursive: true });
  const s = await serve(doomed);
  await assertServes(s.url, 'start');
  rmSync(doomed, { recursive: true });
  const r = await post(s.url, form(photos.map((p, i) => ({ name: basename(p), bytes: photoBytes(i) }))));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  (r.json as unknown as PredictionReport).predictions.forEach((p, i) => assertLikePredict(p, basename(photos[i]!)));
  const page = await fetch(`${s.url}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /id="tlcv-data"/);
  const onnx = await fetch(`${s.url}/model.onnx`);
  assert.equal(onnx.status, 200);
  assert.ok((await onnx.arrayBuffer()).byteLength > 1000);
  assert.equal((await health(s.url)).status, 'ok');
});
