// Bad data through the real `tlcv` binary: IDX files (truncated, wrong magic, a header that
// claims huge dimensions, counts that differ, labels out of range) and image folders (zero-byte,
// corrupt and non-image files with --on-bad-image error|skip, an empty class folder, an
// unreadable folder, no classes). Each is exit code 2 with a message naming the file and what
// was expected and found, no stack trace, and nothing written: a new --out is not created, and
// an existing model folder keeps every file's bytes and mtime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { encodeIdx } from '../src/data/index.js';
import { runCli, STACK_LINE, type CliResult } from './helpers/cli.js';
import { assertUnchanged, snapshot } from './helpers/fs-snapshot.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-bad-data-'));
const existing = join(root, 'existing-model');
after(() => rmSync(root, { recursive: true, force: true }));

before(() => {
  // A real model folder that every failing command below is also pointed at.
  const r = runCli(['pretrain', '--data', 'mnist:train@k=2', '--epochs', '1', '--batch-size', '8', '--threads', '1', '--quiet', '--out', existing]);
  assert.equal(r.code, 0, r.stderr);
});

let fresh = 0;
/** Runs `tlcv pretrain` with --out a new folder and again with --out the existing model folder. */
function pretrainFails(data: string[], message: RegExp, env?: Record<string, string>): CliResult {
  const out = join(root, `out-${(fresh += 1)}`);
  const r = runCli(['pretrain', ...data, '--epochs', '1', '--threads', '1', '--out', out], env ? { env } : {});
  assertUserError(r, 'pretrain', message);
  assert.equal(existsSync(out), false, `${out} was created`);
  const before = snapshot(existing);
  // --overwrite: the folder holds a model, and even a run allowed to replace it fails on the data before touching it.
  const again = runCli(['pretrain', ...data, '--epochs', '1', '--threads', '1', '--overwrite', '--out', existing], env ? { env } : {});
  assertUserError(again, 'pretrain', message);
  assertUnchanged(existing, before, 'a failed pretrain into an existing model folder');
  return r;
}

function assertUserError(r: CliResult, command: string, message: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, STACK_LINE, 'no stack trace');
  const first = r.stderr.trim().split('\n')[0]!;
  assert.ok(first.startsWith(`tlcv ${command}: `), first);
  assert.match(r.stderr, message);
}

function idxFiles(name: string, images: Uint8Array, labels: Uint8Array): string {
  const ip = join(root, `${name}-images`);
  const lp = join(root, `${name}-labels`);
  writeFileSync(ip, images);
  writeFileSync(lp, labels);
  return `idx:${ip},${lp}`;
}

const goodImages = (n: number): Uint8Array => encodeIdx([n, 8, 8], new Uint8Array(n * 64).fill(7));
const goodLabels = (n: number): Uint8Array => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 2));

test('IDX: a truncated images file names the file, the dimensions and both sizes', () => {
  const cut = goodImages(10).subarray(0, 300);
  const spec = idxFiles('cut', cut, goodLabels(10));
  pretrainFails(['--data', spec], /IDX file .*cut-images: truncated: the header's dimensions \[10, 8, 8\] need 656 bytes, the file has 300/);
});

test('IDX: a wrong magic number names the file and the expected form', () => {
  const bad = goodImages(4);
  bad[0] = 0x50;
  bad[1] = 0x4b;
  pretrainFails(['--data', idxFiles('magic', bad, goodLabels(4))], /IDX file .*magic-images: wrong magic number 0x504b0803: expected 0x0000TTNN/);
});

/** Peak RSS in MB of a `tlcv` run, through GNU time. */
function peakRssMb(args: string[]): { mb: number; stderr: string; code: number } {
  const r = spawnSync('/usr/bin/time', ['-f', 'peak-rss-kb=%M', process.execPath, join('bin', 'tlcv.js'), ...args], { encoding: 'utf8' });
  const m = /peak-rss-kb=(\d+)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return { mb: Number(m[1]) / 1024, stderr: r.stderr.replace(/peak-rss-kb=\d+\n?/, ''), code: r.status ?? -1 };
}

test('IDX: headers claiming huge dimensions fail at once, without allocating (raw and gzip)', () => {
  // 2,000,000 x 32 x 32 = 2 GB claimed, under the 2^31 limit, so only the size check stops it;
  // 100,000 x 1000 x 1000 is over the limit.
  const claims: [number[], RegExp][] = [
    [[2_000_000, 32, 32], /need 2048000016 bytes/],
    [[100_000, 1000, 1000], /claims dimensions \[100000, 1000, 1000\] = 100000000000 bytes, over the 2147483648-byte limit/],
  ];
  // The same command on a file with a bad magic number reads the same code up to the header.
  const bad = goodImages(2);
  bad[0] = 1;
  const baseline = peakRssMb(['pretrain', '--data', idxFiles('baseline', bad, goodLabels(2)), '--out', join(root, 'never')]);
  assert.equal(baseline.code, 2, baseline.stderr);
  for (const gz of [false, true]) {
    for (const [dims, message] of claims) {
      const header = encodeIdx(dims, new Uint8Array(0));
      const bytes = gz ? gzipSync(Buffer.concat([header, Buffer.alloc(4096)])) : Buffer.concat([header, Buffer.alloc(64)]);
      const spec = idxFiles(`huge-${dims[0]}-${gz}`, bytes, goodLabels(2));
      const t0 = Date.now();
      const r = peakRssMb(['pretrain', '--data', spec, '--out', join(root, 'never')]);
      assertUserError({ code: r.code, stdout: '', stderr: r.stderr }, 'pretrain', message);
      assert.ok(Date.now() - t0 < 15_000, 'fails at once');
      // 2 GB would be claimed; anything allocated for it would show far above the baseline.
      assert.ok(r.mb < baseline.mb + 100, `peak RSS ${r.mb.toFixed(0)} MB vs ${baseline.mb.toFixed(0)} MB for a bad magic number`);
    }
  }
  assert.equal(existsSync(join(root, 'never')), false);
});

test('IDX: image and label counts that differ name both files and both counts', () => {
  pretrainFails(['--data', idxFiles('count', goodImages(6), goodLabels(5))], /IDX files disagree: .*count-images holds 6 images but .*count-labels holds 5 labels/);
});

test('IDX: labels out of range for the named dataset name the labels file, the label and the range', () => {
  const dir = join(root, 'fake-fashion');
  mkdirSync(dir);
  const labels = Uint8Array.from([0, 3, 12, 1]);
  for (const split of ['train', 't10k']) {
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), encodeIdx([4, 8, 8], new Uint8Array(4 * 64)));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte`), encodeIdx([4], labels));
  }
  pretrainFails(['--data', 'fashion-mnist:train'], /IDX file .*fake-fashion\/train-labels-idx1-ubyte: label 12 \(item 2\) is out of range: expected labels in \[0, 10\) for 10 classes/, {
    TLCV_FASHION_MNIST_DIR: dir,
  });
});

async function png(path: string, value: number): Promise<void> {
  writeFileSync(path, await sharp(Buffer.alloc(8 * 8, value), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer());
}

async function imageFolder(name: string, classes: Record<string, number>): Promise<string> {
  const dir = join(root, name);
  for (const [cls, n] of Object.entries(classes)) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i += 1) await png(join(dir, cls, `${i}.png`), cls.length * 40 + i * 10);
  }
  return dir;
}

test('ImageFolder: zero-byte, corrupt and non-image files are listed with --on-bad-image error (the default)', async () => {
  const dir = await imageFolder('bad-files', { cat: 4, dog: 4 });
  writeFileSync(join(dir, 'cat', 'empty.png'), '');
  const good = await sharp(Buffer.alloc(64, 9), { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
  writeFileSync(join(dir, 'dog', 'cut.png'), good.subarray(0, good.length - 20));
  writeFileSync(join(dir, 'dog', 'notes.txt'), 'not an image');
  const r = pretrainFails(['--data', `folder:${dir}`, '--val', 'none'], /image folder .*bad-files: 3 bad image files \(use --on-bad-image skip to leave them out\)/);
  assert.match(r.stderr, /^ {2}cat\/empty\.png: empty file \(0 bytes\)$/m);
  assert.match(r.stderr, /^ {2}dog\/cut\.png: corrupt or unreadable/m);
  assert.match(r.stderr, /^ {2}dog\/notes\.txt: not an image/m);
  const same = runCli(['pretrain', '--data', `folder:${dir}`, '--on-bad-image', 'error', '--out', join(root, 'never')]);
  assert.equal(same.code, 2);
});

test('ImageFolder: --on-bad-image skip trains on the rest and warns, listing the files', async () => {
  const dir = join(root, 'bad-files');
  const out = join(root, 'skipped');
  const r = runCli(['pretrain', '--data', `folder:${dir}`, '--on-bad-image', 'skip', '--val', 'none', '--epochs', '1', '--batch-size', '4', '--threads', '1', '--quiet', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: skipped 3 bad image files in .*bad-files:/);
  for (const f of ['cat/empty.png', 'dog/cut.png', 'dog/notes.txt']) assert.ok(r.stderr.includes(f), f);
  assert.ok(existsSync(join(out, 'model.safetensors')));
});

test('ImageFolder: an empty class folder is named', async () => {
  const dir = await imageFolder('empty-class', { ant: 3, bee: 0 });
  pretrainFails(['--data', `folder:${dir}`], /image folder .*empty-class: class folder with no images: .*empty-class\/bee$/m);
});

test('ImageFolder: a folder with no class folders, an empty folder, and a split that is not there', async () => {
  const flat = join(root, 'flat');
  mkdirSync(flat);
  await png(join(flat, 'a.png'), 1);
  pretrainFails(['--data', `folder:${flat}`], /image folder .*flat has no class folders: expected one subfolder per class, e\.g\. .*flat\/cat\/001\.jpg/);
  const empty = join(root, 'empty');
  mkdirSync(empty);
  pretrainFails(['--data', `folder:${empty}`], /image folder .*empty has no class folders/);
  pretrainFails(['--data', `folder:${flat}:train`], /image folder .*flat has no "train" split folder/);
});

test('ImageFolder: unreadable folders (a missing path, a dangling symlink, a file, and chmod 000 when not root)', async () => {
  pretrainFails(['--data', `folder:${join(root, 'nowhere')}`], /image folder .*nowhere does not exist/);
  const link = join(root, 'dangling');
  symlinkSync(join(root, 'gone'), link);
  pretrainFails(['--data', `folder:${link}`], /image folder .*dangling does not exist/);
  const file = join(root, 'a-file.png');
  await png(file, 3);
  pretrainFails(['--data', `folder:${file}`], /image folder .*a-file\.png is not a folder/);
  // root reads a chmod-000 folder anyway, so there this case cannot fail; the three above can.
  if (process.getuid?.() !== 0) {
    const locked = await imageFolder('locked', { a: 2, b: 2 });
    chmodSync(join(locked, 'b'), 0o000);
    try {
      pretrainFails(['--data', `folder:${locked}`], /image folder .*locked\/b cannot be read \(permission denied\)/);
    } finally {
      chmodSync(join(locked, 'b'), 0o755);
    }
  }
});

test('evaluate: labels outside the model\'s classes name the data and the classes', () => {
  // The model folder has the ten digit classes; this labels file also has 10 and 11.
  const spec = idxFiles('extra-labels', goodImages(6), encodeIdx([6], Uint8Array.from([0, 1, 10, 2, 11, 3])));
  const before = snapshot(existing);
  const r = runCli(['evaluate', '--model', existing, '--data', spec]);
  assertUserError(r, 'evaluate', /--data idx:.*extra-labels-images,.*extra-labels-labels: classes 10, 11 not among the model's 10 classes \(0, 1, 2, 3, 4, \.\.\. \(10\)\)/);
  assertUnchanged(existing, before, 'a failed evaluate');
});
