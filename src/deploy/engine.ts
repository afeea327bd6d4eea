/**
 * The inference engine a model object runs on: libtorch (execution's forward recipe, conv+BN
 * folded) or onnxruntime over the model's own ONNX graph, built in memory by the exporter.
 *
 * The graph is built in memory and never cached beside the model folder. A file would save only
 * the smaller part of the start-up: for resnet18, building the graph (a walk over the modules
 * and a copy of the weights) took 0.6 s and making the session from it (parsing, graph
 * optimisation, weight pre-packing, which no file can carry from one CPU to another) 1.1 s, on
 * a loaded 2-core machine. And a model object need not come from a folder (a zoo name, a module
 * trained in code), a folder may be read-only or shared, and a file beside it goes stale when
 * the weights change (fit, adapt). The session is made on first use and made again when the
 * weights or the thread count change, as the shared folded view is.
 */
import { TlcvError } from '../errors.js';
import { fromTypedArray, getNumThreads, inferenceMode, tensorsVersion, tidy, type Tensor } from '../tensor/index.js';
import type { ClassifierModel } from '../models/index.js';
import { predictImages, trialBatchSize, type Clock, type ExecutionPlan } from '../execution/index.js';
import { engineOnnx } from './onnx-export.js';
import { onnxRefusal } from './export.js';
import { OrtSession, engineSessionOptions, loadOnnxruntime } from './ort-session.js';
import { batchBucket, chooseEngine, ENGINES, type EngineName, type EngineRequest } from './engine-choice.js';

/** A bucket's batch sizes, [lowest, highest]: '1', '3-4', '64+'. */
function bucketRange(bucket: string): [number, number] {
  if (bucket.endsWith('+')) return [Number(bucket.slice(0, -1)), Infinity];
  const [lo, hi] = bucket.split('-').map(Number) as [number, number?];
  return [lo, hi ?? lo];
}

/**
 * The engine already chosen both for a smaller and for a larger batch than `n` (same plan),
 * when the two agree: a batch size between them is not timed. A server that chose for batch 1
 * and for its largest batch before listening then never stalls its requests to time the sizes
 * in between (a second or more on a loaded machine), unless the two ends disagree.
 */
function between(chosen: Map<string, EngineName> | undefined, n: number, key: string): EngineName | undefined {
  if (chosen === undefined) return undefined;
  const plan = key.slice(key.indexOf('|'));
  let below: [number, EngineName] | null = null;
  let above: [number, EngineName] | null = null;
  for (const [k, engine] of chosen) {
    if (!k.endsWith(plan) || k.length - plan.length !== k.indexOf('|')) continue;
    const [lo, hi] = bucketRange(k.slice(0, k.indexOf('|')));
    if (hi < n && (below === null || hi > below[0])) below = [hi, engine];
    if (lo > n && (above === null || lo < above[0])) above = [lo, engine];
  }
  return below !== null && above !== null && below[1] === above[1] ? below[1] : undefined;
}

/** A normalised batch [N, C, H, W] to fp32 logits [N, classes]: what an evaluation loop runs. */
export type LogitsForward = (x: Tensor) => Tensor;

/** Input size and normalisation of pixels (a model folder's record, or the model's config). */
export interface PixelInput {
  inputSize: [number, number, number];
  mean: number[];
  std: number[];
  /** Names the model in messages. */
  model?: string;
}

export interface EngineSettings {
  engine?: EngineRequest;
  /** Names the model in messages (its folder or file). */
  where?: string;
  /** Where the timing and fallback lines go. */
  log?: (line: string) => void;
  /** What times the engines (tests pass a fake). */
  clock?: Clock;
}

const FP32: ExecutionPlan = { bf16: false, channelsLast: false, device: 'cpu' };

interface Held {
  module: ClassifierModel;
  weights: string;
  session: OrtSession;
}

const weightsOf = (m: ClassifierModel): string => tensorsVersion([...m.parameters(), ...m.namedBuffers().values()]);

/** Float32 pixels normalised per channel into `out`: (p / 255 - mean) / std, as the graph for export does it. */
function normalizeInto(out: Float32Array, images: Uint8Array[], input: PixelInput): void {
  const [c, h, w] = input.inputSize;
  const plane = h * w;
  const at = (v: number[], ch: number): number => v[v.length === 1 ? 0 : ch]!;
  images.forEach((img, i) => {
    for (let ch = 0; ch < c; ch += 1) {
      const scale = 1 / (255 * at(input.std, ch));
      const shift = -at(input.mean, ch) / at(input.std, ch);
      const from = ch * plane;
      const to = (i * c + ch) * plane;
      for (let p = 0; p < plane; p += 1) out[to + p] = img[from + p]! * scale + shift;
    }
  });
}

/** The graph could not be built or loaded: auto falls back, a pinned onnxruntime fails. */
class Refused extends Error {}

/**
 * Runs a model's inference on the engine asked for; `auto` times both on the first batch of
 * each size (see engine-choice.ts). Models whose graph the exporter refuses (a knn head) stay
 * on libtorch, and auto says so in one line.
 *
 * @example
 * const engine = new InferenceEngine({ engine: 'auto', where: 'runs/digits', log: console.error });
 * const probs = engine.classify(model, pixels, preprocess);
 * engine.dispose();
 */
export class InferenceEngine {
  readonly request: EngineRequest;
  readonly #where: string;
  readonly #log: (line: string) => void;
  readonly #clock: Clock | undefined;
  #held: Held | null = null;
  #refused: { module: ClassifierModel; reason: string } | null = null;
  readonly #chosen = new WeakMap<ClassifierModel, Map<string, EngineName>>();
  #buffer = new Float32Array(0);
  #last: EngineName | null = null;

  constructor(s: EngineSettings = {}) {
    const request = s.engine ?? 'auto';
    if (!(ENGINES as readonly string[]).includes(request)) throw new TlcvError('ARGUMENT', `--engine: expected one of ${ENGINES.join('|')}, got ${JSON.stringify(request)}`);
    this.request = request;
    this.#where = s.where ?? 'the model';
    this.#log = s.log ?? (() => {});
    this.#clock = s.clock;
  }

  /** The engine that ran the last batch (null before the first). */
  get lastEngine(): EngineName | null {
    return this.#last;
  }

  /** The onnxruntime session, made (again) for this module, its weights and the thread count when needed. */
  #session(module: ClassifierModel): OrtSession {
    const weights = weightsOf(module);
    const h = this.#held;
    if (h !== null && h.module === module && h.weights === weights && h.session.options.intraOpNumThreads === getNumThreads()) return h.session;
    this.release();
    const session = new OrtSession(engineOnnx(module), engineSessionOptions(getNumThreads()));
    this.#held = { module, weights, session };
    return session;
  }

  /** Why onnxruntime cannot run this module, known before building its graph (null: none known). */
  #refusal(module: ClassifierModel, device: string, log: (line: string) => void): string | null {
    if (device.split(':')[0] !== 'cpu') return `onnxruntime runs on the CPU here, and the model runs on ${device}`;
    if (this.#refused?.module === module) return this.#refused.reason;
    let reason = onnxRefusal(module);
    if (reason === null) {
      try {
        loadOnnxruntime();
      } catch (e) {
        if (!(e instanceof TlcvError)) throw e;
        reason = e.message;
      }
    }
    return reason === null ? null : this.#refuse(module, reason, log);
  }

  /** Remembers a refusal; auto says it once, in one line. */
  #refuse(module: ClassifierModel, reason: string, log: (line: string) => void): string {
    if (this.#refused?.module !== module && this.request === 'auto') log(`engine: ${this.#where} stays on libtorch: ${reason}`);
    this.#refused = { module, reason };
    return reason;
  }

  /** The session, or the reason its graph cannot be built or loaded (an exporter's or onnxruntime's refusal). */
  #sessionOrRefusal(module: ClassifierModel, log: (line: string) => void): OrtSession {
    try {
      return this.#session(module);
    } catch (e) {
      if (!(e instanceof TlcvError)) throw e;
      throw new Refused(this.#refuse(module, e.message, log));
    }
  }

  /**
   * Which engine runs a batch of `n` with this libtorch plan: the pinned one, or auto's choice
   * (this process's, the plan cache's, or timed now with `steps` on the trial).
   */
  #engineFor(module: ClassifierModel, n: number, plan: ExecutionPlan, steps: (images: number) => Record<EngineName, () => void>, log = this.#log): EngineName {
    if (this.request === 'libtorch') return 'libtorch';
    const pinned = this.request === 'onnxruntime';
    const cannot = (reason: string): never => {
      throw new TlcvError('ENGINE', `--engine onnxruntime cannot run ${this.#where}: ${reason}; use --engine libtorch (or auto)`);
    };
    const reason = this.#refusal(module, plan.device, log);
    if (reason !== null) return pinned ? cannot(reason) : 'libtorch';
    if (pinned) {
      try {
        this.#sessionOrRefusal(module, log);
      } catch (e) {
        if (e instanceof Refused) cannot(e.message);
        throw e;
      }
      return 'onnxruntime';
    }
    const [, h, w] = module.config.inputSize;
    const trialMax = trialBatchSize(h, w);
    const key = `${batchBucket(n, trialMax)}|${plan.bf16}|${plan.channelsLast}`;
    const known = this.#chosen.get(module)?.get(key) ?? between(this.#chosen.get(module), n, key);
    if (known !== undefined) {
      this.#chosen.get(module)!.set(key, known);
      return known;
    }
    const images = Math.min(n, trialMax);
    let engine: EngineName;
    try {
      engine = chooseEngine({
        model: module,
        batch: n,
        images,
        trialMax,
        libtorchPlan: plan,
        session: { ...engineSessionOptions(getNumThreads()), version: loadOnnxruntime().version },
        steps: () => {
          this.#sessionOrRefusal(module, log);
          return steps(images);
        },
        ...(this.#clock ? { clock: this.#clock } : {}),
        log,
      }).engine;
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      engine = 'libtorch';
    }
    if (!this.#chosen.has(module)) this.#chosen.set(module, new Map());
    this.#chosen.get(module)!.set(key, engine);
    return engine;
  }

  #pixelsOnOrt(module: ClassifierModel, images: Uint8Array[], input: PixelInput): number[][] {
    const session = this.#session(module);
    const [c, h, w] = input.inputSize;
    const size = images.length * c * h * w;
    // One buffer, reused while batches keep their size (serve's batch-1 path allocates nothing).
    if (this.#buffer.length !== size) this.#buffer = new Float32Array(size);
    normalizeInto(this.#buffer, images, input);
    const probs = session.run(this.#buffer, [images.length, c, h, w], 'probabilities');
    const k = probs.length / images.length;
    return images.map((_, i) => Array.from(probs.subarray(i * k, (i + 1) * k)));
  }

  /**
   * Class probabilities for uint8 CHW pixels at the input size, in one forward: libtorch fp32
   * (folded) or onnxruntime, both within 1e-4 of the exported file.
   *
   * @example
   * const [probs] = engine.classify(model, [pixels], { inputSize: [1, 28, 28], mean: [0.5], std: [0.5] });
   */
  classify(module: ClassifierModel, images: Uint8Array[], input: PixelInput): number[][] {
    const [c, h, w] = input.inputSize;
    const size = c * h * w;
    for (const img of images) if (img.length !== size) throw new TlcvError('ARGUMENT', `Expected ${c}x${h}x${w} = ${size} pixels for ${input.model ?? module.config.name} but received ${img.length}`);
    if (images.length === 0) return [];
    const torch = (xs: Uint8Array[]): number[][] => predictImages(module, xs, { input });
    const engine = this.#engineFor(module, images.length, FP32, (n) => {
      const trial = images.slice(0, n);
      return { libtorch: () => void torch(trial), onnxruntime: () => void this.#pixelsOnOrt(module, trial, input) };
    });
    this.#last = engine;
    return engine === 'onnxruntime' ? this.#pixelsOnOrt(module, images, input) : torch(images);
  }

  #logitsOnOrt(module: ClassifierModel): LogitsForward {
    return (x) => {
      const session = this.#session(module);
      const logits = session.run(x.contiguous().float().toTypedArray() as Float32Array, x.shape, 'logits');
      return fromTypedArray(logits, [x.size(0), logits.length / x.size(0)]);
    };
  }

  /**
   * What an evaluation runs its normalised batches with, once its libtorch plan is known: null
   * for the loop's own libtorch forward, or onnxruntime's. Under auto, `sample` gives the first
   * batch, and `libtorchStep` runs a batch as the loop would, to time them (only when no choice
   * is cached). `log` takes this call's timing and fallback lines (default: the engine's).
   *
   * @example
   * const forward = await engine.evaluationForward(model, plan, async () => firstBatch, (x) => void planForward(model, x, plan));
   */
  async evaluationForward(module: ClassifierModel, plan: ExecutionPlan, sample: () => Promise<Tensor | null>, libtorchStep: (x: Tensor) => void, log = this.#log): Promise<LogitsForward | null> {
    if (this.request === 'libtorch') return null;
    let x: Tensor | null = null;
    if (this.request === 'auto' && this.#refusal(module, plan.device, log) === null) {
      x = await sample();
      if (x === null) return null;
    }
    const ort = this.#logitsOnOrt(module);
    const engine = this.#engineFor(module, x?.size(0) ?? 1, plan, (k) => {
      // Sliced in each step, inside a tidy: the trial holds no tensor between steps.
      const step = (fn: (t: Tensor) => unknown) => (): void => inferenceMode(() => tidy(() => void fn(x!.narrow(0, 0, k))));
      return { libtorch: step(libtorchStep), onnxruntime: step(ort) };
    }, log);
    this.#last = engine;
    return engine === 'onnxruntime' ? ort : null;
  }

  /** Frees the onnxruntime session (its weights and arena) now; the next forward makes it again. */
  release(): void {
    this.#held?.session.dispose();
    this.#held = null;
    this.#buffer = new Float32Array(0);
  }

  dispose(): void {
    this.release();
  }
}
