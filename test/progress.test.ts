// Progress output: off a terminal (a pipe, a log file), one plain line per epoch and one at least
// every 30 s within a long epoch, with no bar and no carriage returns; throttled to one line per
// 30 s when asked (the demo's many short runs); on a terminal, a live bar redrawn in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../src/tensor/index.js';
import { Learner, Progress, type Callback, type ProgressOptions } from '../src/train/index.js';
import { TINY_CONFIG, TinyNet, tinyDataset } from './helpers/tiny-model.js';

function stream(isTTY: boolean): NodeJS.WritableStream & { isTTY: boolean; text: string } {
  const s = {
    isTTY,
    text: '',
    write(chunk: string): boolean {
      s.text += chunk;
      return true;
    },
  };
  return s as unknown as NodeJS.WritableStream & { isTTY: boolean; text: string };
}

/** Three epochs of three steps; each step "takes" `stepSeconds` on the progress clock. */
async function run(o: ProgressOptions & { stream: NodeJS.WritableStream }, stepSeconds: number): Promise<void> {
  let clock = 0;
  const tick: Callback = { order: 1, afterBatch: () => void (clock += stepSeconds * 1000) };
  manualSeed(0);
  const model = new TinyNet(TINY_CONFIG);
  const options = { epochs: 3, batchSize: 8, scheduler: 'none', seed: 1 } as const;
  await new Learner({ model, train: tinyDataset(24), options, plan: { bf16: false, channelsLast: false, device: 'cpu' }, callbacks: [tick, new Progress({ ...o, now: () => clock })], quiet: true }).fit();
  model.dispose();
}

test('off a terminal: the run line, one line per epoch, and a line every 30 s within a long epoch', async () => {
  const out = stream(false);
  await run({ stream: out, title: 'tiny' }, 20);
  assert.doesNotMatch(out.text, /\r|█/);
  const lines = out.text.trimEnd().split('\n');
  assert.equal(lines[0], 'tiny: 24 training images; fp32 on cpu; adamw lr 0.001, none schedule, 3 epochs');
  // Steps end at 20, 40, 60 s (epoch 1), ...: a step line at 40 s (30 s after the run line), then the epoch line at 60 s.
  const kinds = lines.slice(1).map((l) => (/^epoch \d\/3 {2}step \d\/3 {2}loss \d\.\d{4} {2}\d+ img\/s ETA \d+:\d\d$/.test(l) ? 'step' : /^epoch \d\/3 {2}loss \d\.\d{4} acc \d+\.\d\d% {2}lr 1\.00e-3 {2}[\d.]+s \d+ img\/s$/.test(l) ? 'epoch' : l));
  assert.deepEqual(kinds, ['step', 'epoch', 'step', 'epoch', 'step', 'epoch']);
  assert.match(lines[1]!, /^epoch 1\/3 {2}step 2\/3 /);
});

test('throttled: at most one line per 30 s, and the last epoch always', async () => {
  const out = stream(false);
  await run({ stream: out, everyEpoch: false }, 3);
  // Epochs end at 9, 18 and 27 s: only the last is printed (and no step line: the log is never quiet for 30 s).
  const lines = out.text.trimEnd().split('\n');
  assert.equal(lines.length, 2, out.text);
  assert.match(lines[1]!, /^epoch 3\/3 {2}loss /);
});

test('on a terminal: a bar redrawn in place, cleared before each epoch line; quiet prints nothing', async () => {
  const tty = stream(true);
  await run({ stream: tty }, 1);
  assert.match(tty.text, /\repoch 1\/3 █+░* 1\/3 loss \d\.\d{4} \d+ img\/s ETA \d:\d\d {2}/);
  assert.equal(tty.text.split('\r\u001b[2K').filter((part) => /^epoch \d\/3 {2}loss /.test(part)).length, 3);
  const quiet = stream(false);
  await run({ stream: quiet, quiet: true }, 40);
  assert.equal(quiet.text, '');
});
