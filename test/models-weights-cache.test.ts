import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, downloadVerified, getModelConfig, loadWeightsFile, resolvePretrained, sha256Matches } from '../src/models/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { TlcvError } from '../src/errors.js';
import { liveTensors, noGrad, randn, tidy } from '../src/tensor/index.js';
import { assertClose } from './helpers/assert-close.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tlcv-weights-'));

test('zoo entries name torchvision\'s URLs, with the hash prefix of their file names', () => {
  for (const name of ['resnet18', 'resnet34', 'resnet50', 'mobilenet_v2']) {
    const p = getModelConfig(name).pretrained!;
    assert.match(p.url, /^https:\/\/download\.pytorch\.org\/models\/[a-z0-9_]+-[0-9a-f]{8}\.pth$/);
    assert.ok(p.url.endsWith(`/${p.file}`));
    assert.ok(p.sha256 !== null && p.sha256.startsWith(p.file.slice(-12, -4)), `${name}: sha256 ${p.sha256} starts with the file's hash prefix`);
  }
  assert.equal(getModelConfig('seed-cnn').pretrained, undefined);
});

test('a cached file is used as it is; offline, the error says where to put the file', async () => {
  const dir = tmp();
  const offline = (): Promise<Response> => Promise.reject(new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND download.pytorch.org') }));
  const expected = join(dir, 'resnet18-f37072fd.pth');
  await assert.rejects(
    resolvePretrained('resnet18', { cacheDir: dir, fetch: offline }),
    (e: unknown) =>
      e instanceof TlcvError && e.code === 'WEIGHTS' && e.message.includes(expected) && e.message.includes('https://download.pytorch.org/models/resnet18-f37072fd.pth') && /ENOTFOUND/.test(e.message),
  );
  writeFileSync(expected, 'cached');
  assert.equal(await resolvePretrained('resnet18', { cacheDir: dir, fetch: offline }), expected);
  await assert.rejects(resolvePretrained('seed-cnn', { cacheDir: dir }), (e: unknown) => e instanceof TlcvError && /no published pretrained weights/.test(e.message));
});

test('downloads are checked against their sha256 and appear only when complete', async () => {
  const body = Buffer.from('pretend these are weights '.repeat(1000));
  const sha = createHash('sha256').update(body).digest('hex');
  const server = createServer((req, res) => {
    if (req.url === '/w.pth') res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const dir = tmp();
    const path = await downloadVerified({ url: `${base}/w.pth`, sha256: sha, file: 'w.pth' }, dir);
    assert.deepEqual(readFileSync(path), body);
    const prefixOnly = await downloadVerified({ url: `${base}/w.pth`, sha256: sha.slice(0, 8), file: 'w2.pth' }, dir);
    assert.deepEqual(readFileSync(prefixOnly), body);

    const bad = tmp();
    await assert.rejects(
      downloadVerified({ url: `${base}/w.pth`, sha256: '0'.repeat(64), file: 'w.pth' }, bad),
      (e: unknown) => e instanceof TlcvError && e.code === 'WEIGHTS' && e.message.includes(sha) && e.message.includes(join(bad, 'w.pth')),
    );
    assert.deepEqual(readdirSync(bad), [], 'nothing is left behind, not even a partial file');
    await assert.rejects(downloadVerified({ url: `${base}/missing.pth`, sha256: sha, file: 'm.pth' }, bad), (e: unknown) => e instanceof TlcvError && /HTTP 404/.test(e.message));
  } finally {
    server.close();
  }
  assert.ok(sha256Matches('abcdef12' + '0'.repeat(56), 'ABCDEF12'));
  assert.ok(!sha256Matches('abcdef12' + '0'.repeat(56), 'abcdef13'));
});

test('safetensors with torchvision names load through loadWeightsFile', async () => {
  const before = liveTensors().count;
  const src = createModel('seed-cnn');
  const dst = createModel('seed-cnn');
  const file = join(tmp(), 'seed.safetensors');
  try {
    writeSafetensors(file, src.stateDict());
    const report = await loadWeightsFile(dst, file);
    assert.equal(report.loaded.length, 12);
    tidy(() => {
      const x = randn([2, 1, 28, 28]);
      assertClose(noGrad(() => dst.eval().forward(x)), noGrad(() => src.eval().forward(x)), { rtol: 0, atol: 0, what: 'same weights, same logits' });
    });
  } finally {
    src.dispose();
    dst.dispose();
  }
  assert.equal(liveTensors().count, before);
});
