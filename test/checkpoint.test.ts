// Checkpoints by time, in process: a checkpoint once the interval has passed and one at the end
// (not one per epoch); on SIGTERM the newest finished epoch is written and training stops, and a
// resumed run ends on exactly the metrics and weights of an uninterrupted one; a full disk
// (ENOSPC, simulated by the writer) leaves the checkpoint and metrics.jsonl of the same epoch,
// never one without the other.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors, manualSeed } from '../src/tensor/index.js';
import { TlcvError } from '../src/errors.js';
import { writeFilesAtomic, type AtomicFile, type FileOps } from '../src/io/atomic-write.js';
import { Checkpoint, Learner, TrainingInterrupted, readCheckpoint, type Callback, type CheckpointOptions } from '../src/train/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-checkpoint-'));
after(() => rmSync(root, { recursive: true, force: true }));

const plan = { bf16: false, channelsLast: false, device: 'cpu' };
const options = { epochs: 6, batchSize: 8, optimizer: 'adamw', scheduler: 'onecycle', lr: 0.01, seed: 1, augment: 'light' } as const;

async function train(dir: string, o: CheckpointOptions, callbacks: Callback[] = []): Promise<{ model: TinyNet; run: Promise<unknown> }> {
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  const learn = new Learner({ model, train: tinyDataset(48), val: tinyDataset(9), options, plan, callbacks: [new Checkpoint(dir, o), ...callbacks], quiet: true });
  return { model, run: learn.fit() };
}

function readState(dir: string): { epoch: number } {
  const bytes = readFileSync(join(dir, 'checkpoint.safetensors'));
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse((JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__: { state: string } }).__metadata__.state) as { epoch: number };
}

const metricsLines = (dir: string): number => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;

test('by time: a checkpoint once the interval has passed and one at the end, not one per epoch', async () => {
  const dir = join(root, 'by-time');
  let clock = 0;
  const written: number[] = [];
  // Each epoch "takes" 25 s on the checkpoint's clock; with 60 s between checkpoints, epochs 3 and 6 (the last) are written.
  const tick: Callback = { order: 85, afterEpoch: () => void (clock += 25_000) };
  const write = (files: AtomicFile[]): void => {
    writeFilesAtomic(files);
    written.push(metricsLines(dir));
  };
  const { model, run } = await train(dir, { everySeconds: 60, now: () => clock, write, signals: false }, [tick]);
  await run;
  assert.deepEqual(written, [3, 6]);
  assert.equal(readState(dir).epoch, 6);
  assert.equal(metricsLines(dir), 6);
  model.dispose();
});

test('on SIGTERM the newest finished epoch is written and training stops; resuming ends exactly where an uninterrupted run does', async () => {
  const whole = join(root, 'whole');
  const a = await train(whole, { everySeconds: 0, signals: false });
  await a.run;
  a.model.dispose();

  const cut = join(root, 'cut');
  const before = liveTensors().count;
  const listeners = process.listenerCount('SIGTERM');
  // The signal comes from inside epoch 4; its handler runs when the loop next lets the event loop turn.
  const signal: Callback = { afterBatch: (l) => void (l.epoch === 4 && l.epochProgress.steps === 1 && process.kill(process.pid, 'SIGTERM')) };
  const b = await train(cut, {}, [signal]);
  await assert.rejects(b.run, (e: unknown) => {
    assert.ok(e instanceof TrainingInterrupted && e.signal === 'SIGTERM', String(e));
    assert.match(e.message, /^interrupted by SIGTERM in epoch [4-6]: .*cut\/checkpoint\.safetensors now holds epoch [3-5], the last that finished; continue with --resume$/);
    return true;
  });
  b.model.dispose();
  assert.equal(liveTensors().count, before, 'the held epoch and the optimizer were freed');
  assert.equal(process.listenerCount('SIGTERM'), listeners, 'the handlers are gone');
  const at = readState(cut).epoch;
  assert.ok(at >= 3 && at < 6, `checkpoint of epoch ${at}`);
  assert.equal(metricsLines(cut), at, 'metrics.jsonl was written with it');

  const c = await train(cut, { resume: true, signals: false });
  await c.run;
  assert.equal(readFileSync(join(cut, 'metrics.jsonl'), 'utf8'), readFileSync(join(whole, 'metrics.jsonl'), 'utf8'));
  const final = readCheckpoint(cut);
  const reference = readCheckpoint(whole);
  for (const [k, v] of reference.model) assert.deepEqual(final.model.get(k)!.toFlatArray(), v.toFlatArray(), k);
  for (const x of [final, reference]) for (const m of [x.model, x.optimizer]) for (const t of m.values()) t.dispose();
  c.model.dispose();
});

/** The file calls of an atomic write, failing with ENOSPC while writing `victim`'s temp file in epoch `epoch`. */
function fullDisk(victim: string, when: () => boolean): FileOps {
  const paths = new Map<number, string>();
  return {
    ...fs,
    openSync: ((p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      const fd = fs.openSync(p, flags, mode);
      paths.set(fd, String(p));
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
      if (when() && paths.get(fd)?.includes(`.${victim}.`)) {
        fs.writeSync(fd, buffer, offset, Math.min(length ?? buffer.length, 10));
        throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write', errno: -28 });
      }
      return fs.writeSync(fd, buffer, offset, length);
    }) as typeof fs.writeSync,
  };
}

for (const victim of ['checkpoint.safetensors', 'metrics.jsonl']) {
  test(`a full disk while writing ${victim} leaves the checkpoint and metrics.jsonl of the same earlier epoch`, async () => {
    const dir = join(root, `enospc-${victim}`);
    let epoch = 0;
    const count: Callback = { order: 1, beforeEpoch: (l) => void (epoch = l.epoch) };
    const write = (files: AtomicFile[]): void => writeFilesAtomic(files, { fs: fullDisk(victim, () => epoch === 3) });
    const { model, run } = await train(dir, { everySeconds: 0, write, signals: false }, [count]);
    await assert.rejects(run, (e: unknown) => e instanceof TlcvError && e.code === 'FILE' && e.message.includes(join(dir, victim)) && /ENOSPC/.test(e.message));
    assert.equal(readState(dir).epoch, 2);
    assert.equal(metricsLines(dir), 2);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file is left');
    model.dispose();
  });
}

