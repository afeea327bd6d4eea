/**
 * Inference rows of issue 21, run by hand until they join `tlcv bench` (not a test):
 * `OMP_WAIT_POLICY=PASSIVE TLCV_PLAN_CACHE=off node dist/scripts/probes/engine-inference.js [--cpu-time] [threads] [reps] [model:CxHxW ...]`.
 *
 * For each model and batch (1 and 64), tlcv as evaluation runs it by default (the numeric plan
 * timed, then `--engine auto` timing libtorch under that plan against onnxruntime) against
 * PyTorch's best of its four settings (peers/engine_infer.py: fp32, fp32+cl, bf16, bf16+cl,
 * under inference_mode). Also printed: tlcv's libtorch under its plan and onnxruntime alone,
 * so a row that misses shows which engine would have had to be faster. The sides alternate
 * repetition by repetition, and each figure is the best repetition's: the fastest forward by the
 * wall clock, or with --cpu-time (meant for one thread on a loaded machine) the process's CPU
 * time over a repetition's forwards, per forward. The plan and engine choices are timed by the
 * wall clock either way, as tlcv makes them.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { InferenceEngine, loadOnnxruntime, type LogitsForward } from '../../src/deploy/index.js';
import { describePlan, foldedForPlan, layOutForPlan, planForward, tunePlan } from '../../src/execution/index.js';
import { createModel } from '../../src/models/index.js';
import { getNumThreads, inferenceMode, manualSeed, randn, runtimeInfo, setNumThreads, tidy, zeros } from '../../src/tensor/index.js';

const cpuTime = process.argv[2] === '--cpu-time';
const args = process.argv.slice(cpuTime ? 3 : 2);
const threads = Number(args[0] ?? 2);
const reps = Number(args[1] ?? 3);
const ROWS: [string, [number, number, number]][] = args.slice(2).length
  ? args.slice(2).map((a) => {
      const [m, s] = a.split(':');
      return [m!, s!.split('x').map(Number) as [number, number, number]];
    })
  : [
      ['seed-cnn', [1, 28, 28]],
      ['resnet18', [3, 32, 32]],
      ['resnet18', [3, 224, 224]],
      ['mobilenet_v2_035', [3, 32, 32]],
      ['mobilenet_v2_035', [3, 224, 224]],
    ];
const BATCHES = [1, 64];
const SETTINGS = ['fp32', 'fp32+cl', 'bf16', 'bf16+cl'];
// Each repetition runs a step this long at least (and 3 times at least): its best run counts.
const REP_SECONDS = 0.4;

class Peer {
  readonly #lines: AsyncIterator<string>;
  readonly #proc;
  constructor(model: string, size: [number, number, number], batch: number) {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'peers', 'engine_infer.py');
    this.#proc = spawn(process.env.TLCV_PEER_PYTHON ?? '/usr/bin/python3', [script, model, ...size.map(String), String(batch), String(threads), '10'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.#proc.stdout })[Symbol.asyncIterator]();
  }
  async line(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error('the PyTorch peer exited early (python3-torch installed?)');
    return r.value;
  }
  async best(setting: string, runs: number): Promise<number> {
    this.#proc.stdin.write(`${setting} ${runs} ${cpuTime ? 'cpu' : 'wall'}\n`);
    return Number(await this.line());
  }
  close(): void {
    this.#proc.stdin.end();
  }
}

/** Seconds of one run: the fastest of `runs` by the wall clock, or their mean CPU time (--cpu-time). */
function best(fn: () => void, runs: number): number {
  if (cpuTime) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < runs; i += 1) fn();
    const u = process.cpuUsage(u0);
    return (u.user + u.system) / 1e6 / runs;
  }
  let b = Infinity;
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, (performance.now() - t0) / 1000);
  }
  return b;
}

async function row(name: string, size: [number, number, number], batch: number): Promise<string> {
  manualSeed(0);
  const model = createModel(name, { numClasses: 10, inChannels: size[0], inputSize: [size[1], size[2]] });
  model.eval();
  const x = randn([batch, ...size]);
  const y = zeros([batch]).long();
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const plan = tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: false, precision: 'auto', channelsLast: 'auto', device: 'cpu', log });
  layOutForPlan(model, plan);
  const folded = foldedForPlan(model, plan);
  const engine = new InferenceEngine({ engine: 'auto', log });
  const ort = new InferenceEngine({ engine: 'onnxruntime' });
  const torchStep = (): void => inferenceMode(() => tidy(() => void planForward(model, x, plan, { folded }).sum().item()));
  const forward: LogitsForward | null = await engine.evaluationForward(model, plan, async () => x, (t) => void planForward(model, t, plan, { folded }).sum().item());
  const ortForward = (await ort.evaluationForward(model, plan, async () => null, () => {}))!;
  const ortStep = (): void => inferenceMode(() => tidy(() => void ortForward(x).sum().item()));
  const tlcvStep = forward === null ? torchStep : (): void => inferenceMode(() => tidy(() => void forward(x).sum().item()));
  const peer = new Peer(name, size, batch);
  await peer.line();
  const t0 = performance.now();
  torchStep();
  const runs = Math.max(3, Math.ceil(REP_SECONDS / Math.max(1e-4, (performance.now() - t0) / 1000)));
  const sec = { tlcv: Infinity, libtorch: Infinity, onnxruntime: Infinity, ...Object.fromEntries(SETTINGS.map((s) => [s, Infinity])) } as Record<string, number>;
  ortStep();
  for (let r = 0; r < reps; r += 1) {
    sec.tlcv = Math.min(sec.tlcv!, best(tlcvStep, runs));
    for (const s of SETTINGS) sec[s] = Math.min(sec[s]!, await peer.best(s, runs));
    sec.libtorch = Math.min(sec.libtorch!, best(torchStep, runs));
    sec.onnxruntime = Math.min(sec.onnxruntime!, best(ortStep, runs));
  }
  peer.close();
  folded.dispose();
  engine.dispose();
  ort.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  const rate = (k: string): number => batch / sec[k]!;
  const peerBest = SETTINGS.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const ratio = rate('tlcv') / rate(peerBest);
  const chosen = engine.lastEngine === 'onnxruntime' ? 'onnxruntime' : `libtorch ${describePlan(plan)}`;
  const cells = [`${name} ${size.join('x')}`, String(batch), `${rate('tlcv').toFixed(1)} (${chosen})`, rate('libtorch').toFixed(1), rate('onnxruntime').toFixed(1), `${rate(peerBest).toFixed(1)} (${peerBest})`, `${ratio.toFixed(2)}x`, ratio >= 2 ? 'met' : 'missed'];
  return `| ${cells.join(' | ')} |\n${lines.map((l) => `    ${l}`).join('\n')}`;
}

async function main(): Promise<void> {
  setNumThreads(threads);
  const cpu = cpus()[0]?.model ?? 'cpu';
  console.log(`CPU ${cpu}, ${getNumThreads()} threads, libtorch ${runtimeInfo().torchVersion}, onnxruntime-node ${loadOnnxruntime().version}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(unset)'}, best of ${reps} repetitions, ${cpuTime ? 'CPU time' : 'wall clock'}, images/s`);
  console.log('| model | batch | tlcv auto (engine) | tlcv libtorch, its plan | tlcv onnxruntime | PyTorch best (setting) | tlcv / PyTorch | target 2x |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, size] of ROWS) for (const batch of BATCHES) console.log(await row(name, size, batch));
}

await main();
