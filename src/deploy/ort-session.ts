/**
 * onnxruntime-node as tlcv's second inference engine: one session over a graph built in memory,
 * run synchronously, with its options chosen here once and recorded with every timing.
 *
 * The session is driven through onnxruntime-node's native binding (`dist/binding`), whose
 * `run` is synchronous: the package's public `InferenceSession.run` is that same call deferred
 * by `setImmediate` into a Promise. tlcv's one forward path (`classify`, which the micro-batcher,
 * predict and the evaluation loop call) is synchronous like a libtorch forward, so the public
 * API would only add an event-loop turn to every batch-1 request and make every caller async.
 * The binding is not a public API: the version is pinned exactly in package.json, and
 * {@link loadOnnxruntime} checks its shape and says what is wrong if it changes.
 */
import { createRequire } from 'node:module';
import { TlcvError } from '../errors.js';

/** What tlcv sets on every session, and why (recorded with the timing that chose the engine). */
export interface OrtSessionOptions {
  /** tlcv's thread count: the same cores libtorch would use. */
  intraOpNumThreads: number;
  /** One op at a time ('sequential'), so no inter-op pool competes with the intra-op one. */
  executionMode: 'sequential';
  interOpNumThreads: number;
  /** 'all': constant folding, conv+activation fusion and, on x86, the NCHWc blocked-layout kernels. */
  graphOptimizationLevel: 'all';
  /** The arena keeps freed blocks for the next run (see the note on memory in ort-session.ts). */
  enableCpuMemArena: boolean;
  /** Plans each input shape's buffers once and reuses the plan. */
  enableMemPattern: boolean;
  /** Errors only: onnxruntime's warnings (unused initializers) must not reach the CLI's stderr. */
  logSeverityLevel: 3;
  /** Session config entries: intra-op threads do not spin-wait between ops. */
  extra: { session: { intra_op: { allow_spinning: '0' | '1' } } };
}

/**
 * The options every engine session gets. Spinning is off: an idle intra-op thread that spins
 * after each op burns a core that the server's image decoding (sharp's threads) and the data
 * loader need; on a 2-core machine a batch-1 mobilenet_v2_035 forward spent 6.7 ms of CPU
 * spinning against 3.0 ms not, for the same answer.
 *
 * Memory: the arena grows to the largest batch run and keeps it until the session is disposed
 * (onnxruntime-node exposes no arena shrinkage: its run options carry no config entries). To
 * give memory back when idle, dispose the session ({@link OrtSession.dispose}; the engine does
 * it in `release()`) and let the next forward make a new one. Without the arena every run maps
 * its activations afresh and the kernel zeroes them page by page (slower by half for
 * mobilenet_v2_035 at batch 64).
 *
 * @example
 * engineSessionOptions(2).intraOpNumThreads; // 2
 */
export function engineSessionOptions(threads: number): OrtSessionOptions {
  return {
    intraOpNumThreads: threads,
    executionMode: 'sequential',
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

interface OrtValue {
  data: unknown;
  dims: readonly number[];
}
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: { name: string }[];
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, OrtValue>;
  dispose(): void;
}
interface Onnxruntime {
  Session: new () => NativeSession;
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  version: string;
}

let loaded: Onnxruntime | TlcvError | null = null;

/**
 * onnxruntime-node's binding, loaded on first use (the library is 20 MB that a libtorch-only
 * run never maps). Throws TlcvError('ENGINE') when it is missing or not the expected shape.
 *
 * @example
 * loadOnnxruntime().version; // '1.30.0'
 */
export function loadOnnxruntime(): Onnxruntime {
  if (loaded === null) loaded = tryLoad();
  if (loaded instanceof TlcvError) throw loaded;
  return loaded;
}

function tryLoad(): Onnxruntime | TlcvError {
  const require = createRequire(import.meta.url);
  try {
    const pub = require('onnxruntime-node') as { Tensor?: Onnxruntime['Tensor']; env?: { versions?: { node?: string } } };
    const b = require('onnxruntime-node/dist/binding') as { binding?: { InferenceSession?: Onnxruntime['Session'] }; initOrt?: () => void };
    if (typeof b.initOrt !== 'function' || typeof b.binding?.InferenceSession !== 'function' || typeof pub.Tensor !== 'function') {
      return new TlcvError('ENGINE', `onnxruntime-node ${pub.env?.versions?.node ?? '?'} does not have the binding tlcv drives (dist/binding with InferenceSession and initOrt): install the version package.json names, or use --engine libtorch`);
    }
    b.initOrt();
    return { Session: b.binding.InferenceSession, Tensor: pub.Tensor, version: pub.env?.versions?.node ?? 'unknown' };
  } catch (e) {
    return new TlcvError('ENGINE', `onnxruntime-node cannot be loaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): reinstall tlcv's dependencies, or use --engine libtorch`);
  }
}

/** Sessions made and not yet disposed, in this process (the leak test reads it). */
let open = 0;

/**
 * One onnxruntime session over an ONNX graph with one float32 input and named outputs.
 *
 * @example
 * const s = new OrtSession(bytes, engineSessionOptions(2));
 * const logits = s.run(input, [1, 3, 224, 224], 'logits');
 * s.dispose();
 */
export class OrtSession {
  readonly options: OrtSessionOptions;
  readonly #ort: Onnxruntime;
  #session: NativeSession | null;
  readonly #input: string;

  constructor(graph: Uint8Array, options: OrtSessionOptions) {
    this.#ort = loadOnnxruntime();
    this.options = options;
    const s = new this.#ort.Session();
    try {
      s.loadModel(graph.buffer, graph.byteOffset, graph.byteLength, options);
    } catch (e) {
      throw new TlcvError('ENGINE', `onnxruntime refused tlcv's graph: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#session = s;
    this.#input = s.inputMetadata[0]!.name;
    open += 1;
  }

  /** The onnxruntime-node version that runs the session. */
  get version(): string {
    return this.#ort.version;
  }

  /** One forward: `input` (float32, `dims`) in, the named output's float32 data out (a copy owned by JS). */
  run(input: Float32Array, dims: readonly number[], output: string): Float32Array {
    if (this.#session === null) throw new Error('internal: onnxruntime session used after dispose');
    const out = this.#session.run({ [this.#input]: new this.#ort.Tensor('float32', input, dims) }, { [output]: null }, {});
    return out[output]!.data as Float32Array;
  }

  get disposed(): boolean {
    return this.#session === null;
  }

  /** Frees the session: its weights, its arena and its threads. */
  dispose(): void {
    if (this.#session === null) return;
    this.#session.dispose();
    this.#session = null;
    open -= 1;
  }
}

/**
 * onnxruntime sessions open in this process.
 *
 * @example
 * openOrtSessions(); // 0 once every model is disposed
 */
export function openOrtSessions(): number {
  return open;
}
