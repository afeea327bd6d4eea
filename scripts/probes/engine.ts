/**
 * Engine benchmark, run by hand (not a test): `node dist/scripts/probes/engine.js [threads] [rounds]`.
 * Prints, each against PyTorch (peers/engine.py) with the same thread count:
 *  (a) the overhead of one tiny op call (add of two 1-element tensors), in µs, with a
 *      breakdown of where tlcv's time goes (N-API floor, boxed call, handle wrapping, TS);
 *  (b) GFLOP/s of a 2048x2048 fp32 matmul;
 *  (c) GFLOP/s of a conv2d forward+backward (64x64x28x28 input, 3x3, 128 out, padding 1).
 * The two sides alternate repetition by repetition, so both see the same machine load, and
 * each figure is the best repetition: the least noisy statistic on a shared machine.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/native/binding.js';
import { F, getNumThreads, manualSeed, ones, randn, runtimeInfo, setNumThreads, tensor, tidy, zeros, type Tensor } from '../../src/tensor/index.js';
import { opId } from '../../src/tensor/invoke.js';

const threads = Number(process.argv[2] ?? process.env.TLCV_THREADS ?? availableParallelism());
const rounds = Number(process.argv[3] ?? 1);
const CALLS = 100_000;
const N = 2048;
const MATMUL_FLOP = 2 * N ** 3;
// Forward is 2*N*Cout*H*W*Cin*k*k; backward computes grad input and grad weight, each as much again.
const CONV_FLOP = 3 * 2 * 64 * 128 * 28 * 28 * 64 * 9;

/** A PyTorch process that times one repetition of a named figure per request. */
class Peer {
  #lines: AsyncIterator<string>;
  readonly #proc;
  constructor() {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'peers', 'engine.py');
    const python = process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3';
    this.#proc = spawn(python, [script, String(threads), String(CALLS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error('the PyTorch peer exited early (python3-torch installed?)');
    return r.value;
  }
  async time(figure: string): Promise<number> {
    this.#proc.stdin.write(`${figure}\n`);
    return Number(await this.next());
  }
  close(): void {
    this.#proc.stdin.end();
  }
}

function timeOnce(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const repeat = (fn: () => void) => (): void => {
  for (let i = 0; i < CALLS; i += 1) fn();
};

/** Best seconds per repetition for tlcv and PyTorch, alternating `reps` times after a warm-up each. */
async function duel(reps: number, mine: () => void, peer: Peer, figure: string): Promise<[number, number]> {
  mine();
  let [best, bestPeer] = [Infinity, Infinity];
  for (let r = 0; r < reps; r += 1) {
    best = Math.min(best, timeOnce(mine));
    bestPeer = Math.min(bestPeer, await peer.time(figure));
  }
  return [best, bestPeer];
}

/** Where one tiny op's time goes: each line adds one layer on top of the one before. */
function tinyBreakdown(a: Tensor, b: Tensor, c: Tensor, reps: number): Record<string, number> {
  const id = opId('add.Tensor');
  const inplaceId = opId('add_.Tensor');
  const [ah, bh, ch] = [a.handle, b.handle, c.handle];
  const layers: Record<string, () => void> = {
    'N-API round trip (isReleased)': () => native.isReleased(ah),
    'N-API call returning an object (meta)': () => native.meta(ah),
    'boxed in-place add_, no result handle': () => native.callOp(inplaceId, true, ch, bh, 1),
    'boxed add, result dropped in C++': () => native.callOp(id, true, ah, bh, 1),
    'boxed add + wrap handle + release': () => native.release(native.callOp(id, false, ah, bh, 1) as never),
    'Tensor.add_ (TS)': () => c.add_(b),
    'Tensor.add + dispose (TS)': () => a.add(b).dispose(),
    'tidy(() => a.add(b)) (TS)': () => tidy(() => void a.add(b)),
  };
  const best: Record<string, number> = {};
  for (const [k, fn] of Object.entries(layers)) {
    repeat(fn)();
    best[k] = Infinity;
  }
  // Interleaved, so a burst of load elsewhere does not land on one layer only.
  for (let r = 0; r < reps; r += 1) {
    for (const [k, fn] of Object.entries(layers)) best[k] = Math.min(best[k]!, (timeOnce(repeat(fn)) / CALLS) * 1e6);
  }
  return best;
}

const fmt = (v: number): string => v.toFixed(2).padStart(10);

async function main(): Promise<void> {
  setNumThreads(threads);
  manualSeed(0);
  const peer = new Peer();
  const [, torchVersion, peerThreads] = (await peer.next()).split(' ');
  const rows: [string, number, number, number][] = [];
  const us = (s: number): number => (s / CALLS) * 1e6;

  const [a, b, c] = [tensor([1]).keep(), tensor([2]).keep(), tensor([0]).keep()];
  const [add, addPeer] = await duel(10 * rounds, repeat(() => a.add(b).dispose()), peer, 'tiny_add');
  rows.push(['(a) tiny op: add, 1-element tensors, µs/call', us(add), us(addPeer), addPeer / add]);
  const [inplace, inplacePeer] = await duel(10 * rounds, repeat(() => c.add_(b)), peer, 'tiny_add_');
  rows.push(['    in-place add_, µs/call', us(inplace), us(inplacePeer), inplacePeer / inplace]);
  let addFnPeer = Infinity;
  for (let r = 0; r < 3; r += 1) addFnPeer = Math.min(addFnPeer, await peer.time('tiny_add_fn'));
  const breakdown = tinyBreakdown(a, b, c, 5 * rounds);

  const [x, y] = [randn([N, N]).keep(), randn([N, N]).keep()];
  const [mm, mmPeer] = await duel(3 * rounds, () => tidy(() => void x.matmul(y)), peer, 'matmul');
  rows.push(['(b) matmul 2048x2048 fp32, GFLOP/s', MATMUL_FLOP / mm / 1e9, MATMUL_FLOP / mmPeer / 1e9, mmPeer / mm]);

  const input = randn([64, 64, 28, 28]).requiresGrad_().keep();
  const w = randn([128, 64, 3, 3]).requiresGrad_().keep();
  const bias = zeros([128]).requiresGrad_().keep();
  const g = ones([64, 128, 28, 28]).keep();
  const convStep = (): void =>
    tidy(() => {
      for (const p of [input, w, bias]) p.grad = null;
      F.conv2d(input, w, bias, { padding: 1 }).backward(g);
    });
  const [conv, convPeer] = await duel(4 * rounds, convStep, peer, 'conv');
  rows.push(['(c) conv2d fwd+bwd 64x64x28x28 3x3->128, GFLOP/s', CONV_FLOP / conv / 1e9, CONV_FLOP / convPeer / 1e9, convPeer / conv]);
  peer.close();
  for (const t of [a, b, c, x, y, input, w, bias, g]) t.dispose();

  const info = runtimeInfo();
  console.log(`tlcv engine benchmark: ${getNumThreads()} threads (PyTorch: ${peerThreads}), libtorch ${info.torchVersion}, PyTorch ${torchVersion}, node ${process.version}`);
  console.log('best repetition, tlcv and PyTorch alternating\n');
  console.log(`${'figure'.padEnd(50)}${'tlcv'.padStart(10)}${'PyTorch'.padStart(10)}  speed tlcv/PyTorch`);
  for (const [name, tl, pt, speed] of rows) console.log(`${name.padEnd(50)}${fmt(tl)}${fmt(pt)}  ${speed.toFixed(2)}`);
  console.log(`\nPyTorch torch.add(a, b): ${us(addFnPeer).toFixed(2)} µs/call (the row above times a + b)`);
  console.log("\nwhere tlcv's tiny-op time goes (µs/call, best of interleaved runs):");
  for (const [k, v] of Object.entries(breakdown)) console.log(`  ${k.padEnd(48)}${fmt(v)}`);
}

await main();
