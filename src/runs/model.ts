/**
 * The one model object, in the shape of Ultralytics' `Model` and fastai's `Learner`: opened from
 * a model folder, a weights file or a zoo name, it trains (`fit`, `transfer`, `adapt`),
 * evaluates, predicts, exports, serves and saves. Every path that turns an image into an answer
 * goes through `pixels` (the model's preprocessing record, as evaluation applies it) and
 * `classify` (execution's predictImages), and every model folder is read and written by
 * model-folder.ts: training and deployment cannot preprocess differently.
 */
import { TlcvError } from '../errors.js';
import { isFileDataset, preprocessImageFile, type Dataset, type ImageSource, type PreprocessConfig } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import type { CalibrationRecord, EvaluationResult } from '../metrics/index.js';
import { releaseFoldedView, type ExecutionPlan } from '../execution/index.js';
import type { Tensor } from '../tensor/index.js';
import { evaluateOn, resolveTrainOptions, type Precision } from '../train/index.js';
import { HEAD_MODES, type HeadMode } from '../transfer/heads/index.js';
import { InferenceEngine, SERVE_DEFAULTS, describePrediction, unknownThreshold, withTemperature, type UnknownSetting, exportModel, startServer, webFilesOf, type EngineRequest, type ExportRequest, type ExportSource, type ImagePredictor, type Prediction, type RunningServer, type ServeOptions, type WebFile } from '../deploy/index.js';
import { alignToModelClasses, loadForModel } from './data-prep.js';
import { openModel, type OpenOptions, type Opened } from './open.js';
import { saveModelFolder } from './model-folder.js';
import { headRun, pretrainRun, transferRun, type HeadRunOptions, type RunOutcome, type TrainRunOptions, type TransferRunOptions } from './train-runs.js';
import { adaptRun, type AdaptRunOptions, type AdaptRunOutcome } from './adapt-run.js';
import { mirrorPixels, pixelsOfTensor, type PredictInput } from './predict-input.js';

export interface LoadModelOptions extends OpenOptions {
  /** Where evaluate and predict run: cpu, cuda or cuda:N (default cpu). */
  device?: string;
  /** Evaluation's numeric plan: auto times fp32 against bf16 where the CPU has it (default auto). */
  precision?: Precision;
  /** Evaluation's memory format: auto times channels-last against contiguous (default auto). */
  channelsLast?: 'auto' | boolean;
  /**
   * What runs inference (classify, so predict and serve, and evaluate): libtorch, onnxruntime on
   * the model's ONNX graph, or auto (default), which times both on the first batch of a size and
   * caches the choice per model, batch, threads and CPU.
   */
  engine?: EngineRequest;
  /** Where the engine's timing and fallback lines go (default: nowhere). */
  log?: (line: string) => void;
  /**
   * When predict and serve answer unknown: below the model folder's calibrated threshold (auto,
   * the default; a folder without one never does), never (off), or below this max probability.
   */
  unknown?: UnknownSetting;
}

/** `transfer`'s request: a training mode (Learner) or a training-free head. */
export type TransferOptions = (Omit<TransferRunOptions, 'from' | 'description'> | (Omit<HeadRunOptions, 'from' | 'description'> & { mode: HeadMode })) & { from?: string };

/** An evaluation, with each of the most confidently wrong images named by its file when it has one. */
export type Evaluation = EvaluationResult & { worst: (EvaluationResult['worst'][number] & { file?: string })[] };

/**
 * Opens a model: a tlcv model folder, a weights file (`arch` names its architecture), or a zoo
 * name (with its published weights; an architecture without them is built by `fit`).
 *
 * @example
 * const m = await load('runs/source');
 * await m.transfer('folder:photos:train', { mode: 'fine-tune', out: { dir: 'runs/photos' } });
 * console.log((await m.evaluate('folder:photos:test')).accuracy);
 * console.log((await m.predict(['cat.jpg']))[0].top[0]);
 * m.dispose();
 */
export async function load(source: string, o: LoadModelOptions = {}): Promise<Model> {
  return new Model(await openModel(source, o), o, source);
}

export class Model implements ImagePredictor {
  #module: ClassifierModel | null;
  #arch: { name: string; alpha?: number } | null;
  #classes: string[];
  #preprocess: PreprocessConfig | null;
  #description: string;
  #source: string;
  readonly #settings: { device: string; precision: Precision; channelsLast: 'auto' | boolean };
  #evalPlan: ExecutionPlan | null = null;
  /** Test-time augmentation by default in evaluate and predict (a folder written by fit may ask for it). */
  #tta = false;
  readonly #engine: InferenceEngine;
  readonly #log: (line: string) => void;
  #calibration: CalibrationRecord | null;
  readonly #unknown: UnknownSetting;

  /** Use `load(source)`, or `Model.wrap(module, ...)` for a module trained in code. */
  constructor(opened: Opened, o: LoadModelOptions = {}, source = opened.description) {
    this.#settings = { device: o.device ?? 'cpu', precision: o.precision ?? 'auto', channelsLast: o.channelsLast ?? 'auto' };
    this.#description = opened.description;
    this.#source = source;
    this.#log = o.log ?? (() => {});
    this.#unknown = o.unknown ?? 'auto';
    // Checked here, so that a bad setting fails at load rather than at the first image.
    unknownThreshold(this.#unknown, null);
    this.#calibration = opened.kind === 'module' ? (opened.calibration ?? null) : null;
    this.#engine = new InferenceEngine({ ...(o.engine === undefined ? {} : { engine: o.engine }), where: source, log: (line) => this.#log(line) });
    if (opened.kind === 'module') {
      this.#module = opened.module;
      this.#arch = null;
      this.#classes = opened.classes;
      this.#preprocess = opened.preprocess;
      this.#tta = opened.tta === true;
    } else {
      this.#module = null;
      this.#arch = { name: opened.arch, ...(opened.build.alpha === undefined ? {} : { alpha: opened.build.alpha }) };
      this.#classes = [];
      this.#preprocess = null;
    }
  }

  /**
   * A model object around a module trained in code (with a Learner), to save, export or serve it.
   *
   * @example
   * const m = Model.wrap(learn.model, { classes: train.classes, preprocess: train.preprocess });
   * m.save('runs/mine');
   */
  static wrap(module: ClassifierModel, o: { classes: string[]; preprocess: PreprocessConfig | null; description?: string; tta?: boolean } & Omit<LoadModelOptions, keyof OpenOptions>): Model {
    const { classes, preprocess, description, tta, ...rest } = o;
    return new Model({ kind: 'module', module, classes, preprocess, description: description ?? module.config.name, ...(tta === true ? { tta: true } : {}) }, rest);
  }

  /** Whether evaluate and predict average each image with its mirror image unless told otherwise. */
  get tta(): boolean {
    return this.#tta;
  }
  /** Whether evaluate and predict use test-time augmentation by default (saved with the folder). */
  set tta(on: boolean) {
    this.#tta = on;
  }

  /** What runs inference: the engine asked for (auto, libtorch or onnxruntime). */
  get engine(): EngineRequest {
    return this.#engine.request;
  }

  /** The engine that ran the last batch (classify or evaluate), once one has run. */
  get lastEngine(): 'libtorch' | 'onnxruntime' | null {
    return this.#engine.lastEngine;
  }

  /** The trained network; an architecture not yet trained has none. */
  get module(): ClassifierModel {
    if (this.#module === null) throw new TlcvError('MODEL', `${this.#description} has no weights yet: train it first (fit, or tlcv pretrain)`);
    return this.#module;
  }
  get built(): boolean {
    return this.#module !== null;
  }
  /** The architecture's zoo name. */
  get name(): string {
    return this.#module?.config.name ?? this.#arch!.name;
  }
  get classes(): string[] {
    return this.#classes;
  }
  /** What turns an image into the model's input (null for a model whose input no image makes). */
  get preprocess(): PreprocessConfig | null {
    return this.#preprocess;
  }
  get description(): string {
    return this.#description;
  }
  /** The temperature and unknown threshold the model folder recorded (`--unknown auto` at training), or null. */
  get calibration(): CalibrationRecord | null {
    return this.#calibration;
  }
  /** Sets (or with null, drops) the temperature and unknown threshold: `fit` fits them on its validation split. */
  set calibration(record: CalibrationRecord | null) {
    this.#calibration = record;
  }
  /** The max probability below which predict and serve answer unknown (null: never), from the `unknown` setting. */
  get unknownThreshold(): number | null {
    return unknownThreshold(this.#unknown, this.#calibration?.threshold ?? null);
  }

  #adopt(r: RunOutcome): void {
    if (this.#module !== null && this.#module !== r.module) this.#module.dispose();
    this.#module = r.module;
    this.#arch = null;
    this.#classes = r.classes;
    this.#preprocess = r.preprocess;
    this.#calibration = r.calibration;
    // A new model: whether mirroring helps it is for its own validation to say (fit sets it).
    this.#tta = false;
    this.#evalPlan = null;
  }

  /**
   * Trains on `data`: an architecture from seeded initial weights (what `tlcv pretrain` does);
   * a trained model goes on training every layer (its classifier is kept when the data's classes
   * are the model's, else replaced).
   *
   * @example
   * const m = await load('seed-cnn', { pretrained: false });
   * await m.fit('fashion-mnist:train', { options: { epochs: 4 }, out: { dir: 'runs/source' } });
   */
  async fit(data: string, o: TrainRunOptions = {}): Promise<RunOutcome> {
    const r =
      this.#module === null
        ? await pretrainRun(this.#arch!, data, o)
        : await transferRun({ module: this.#module, preprocess: this.#preprocess }, data, { ...o, mode: 'fine-tune', unfreeze: 'all', keepHeadFor: this.#classes, from: this.#source, description: this.#description });
    this.#adopt(r);
    return r;
  }

  /**
   * Transfers the model to `data`'s classes: feature extraction or fine-tuning through the
   * Learner, or a training-free head (ncm, knn, probe) fitted in seconds.
   *
   * @example
   * await m.transfer('mnist:all@k=10', { mode: 'ncm' });
   */
  async transfer(data: string, o: TransferOptions): Promise<RunOutcome> {
    const source = { module: this.module, preprocess: this.#preprocess };
    const named = { from: o.from ?? this.#source, description: this.#description };
    const r = (HEAD_MODES as readonly string[]).includes(o.mode) ? await headRun(source, data, { ...(o as HeadRunOptions), ...named }) : await transferRun(source, data, { ...(o as TransferRunOptions), ...named });
    this.#adopt(r);
    return r;
  }

  /**
   * Adapts the model to unlabelled images of a target domain (adabn, dann, pseudo-label); their
   * labels are never read. Every image goes through the model's own record.
   *
   * @example
   * const { result } = await m.adapt('folder:unlabelled', { method: 'adabn', targetTest: 'folder:labelled' });
   */
  async adapt(target: string, o: Omit<AdaptRunOptions, 'from'> & { from?: string }): Promise<AdaptRunOutcome> {
    const r = await adaptRun(this.module, this.#classes, this.#preprocess, target, { ...o, from: o.from ?? this.#source, description: this.#description });
    this.#preprocess = r.preprocess;
    // Adapted weights answer with other confidences: the old temperature and threshold no longer hold.
    this.#calibration = null;
    this.#evalPlan = null;
    return r;
  }

  /**
   * Accuracy, top-5, per-class metrics, confusion and loss on `data` (a spec, decoded with the
   * model's record, or a dataset), with an inference plan timed on its first batch.
   *
   * @example
   * const { accuracy } = await m.evaluate('mnist:test');
   */
  async evaluate(data: string | Dataset, o: { batchSize?: number; onBadImage?: 'error' | 'skip'; log?: (line: string) => void; tta?: boolean } = {}): Promise<Evaluation> {
    const module = this.module;
    const how = { ...(o.onBadImage ? { onBadImage: o.onBadImage } : {}), ...(o.log ? { log: o.log } : {}), ...(this.#preprocess ? { preprocess: this.#preprocess } : {}) };
    const ds = typeof data === 'string' ? alignToModelClasses(await loadForModel(data, module, how), this.#classes) : data;
    const options = resolveTrainOptions(this.#settings);
    const engine = (plan: ExecutionPlan, sample: () => Promise<Tensor | null>, step: (x: Tensor) => void) => this.#engine.evaluationForward(module, plan, sample, step, o.log);
    const { result, plan } = await evaluateOn(module, ds, this.#evalPlan, options, this.#classes, { ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }), engine, tta: o.tta ?? this.#tta });
    this.#evalPlan = plan;
    const file = (index: number): string | undefined => (isFileDataset(ds) ? ds.files.paths[ds.fileIds[index]!] : undefined);
    return { ...result, worst: result.worst.map((w) => ({ ...w, ...(file(w.index) === undefined ? {} : { file: file(w.index) }) })) };
  }

  #record(): PreprocessConfig {
    if (this.#preprocess === null) throw new TlcvError('MODEL', `${this.name} takes ${this.module.config.inputSize[0]}-channel input: only 1 (gray) or 3 (RGB) channels can be made from an image`);
    return this.#preprocess;
  }

  /** uint8 CHW pixels at the input size, decoded as the model's record says (what evaluation sees). */
  pixels(source: ImageSource): Promise<Uint8Array> {
    return preprocessImageFile(source, this.#record());
  }

  /**
   * Class probabilities for a batch of uint8 CHW pixels, in one forward on the model's engine:
   * libtorch fp32 with conv+BN folded, or onnxruntime on the ONNX graph, so predict and serve
   * answer what the exported file would (within 1e-4). A calibrated folder's temperature
   * applies (as in the exported graph).
   */
  classify(images: Uint8Array[], o: { tta?: boolean } = {}): number[][] {
    const module = this.module;
    const input = { ...(this.#preprocess ?? module.config), model: module.config.name };
    let probs = this.#engine.classify(module, images, input);
    if (o.tta ?? this.#tta) {
      // Test-time augmentation on the pixels, so that either engine runs it; before the temperature.
      const mirrored = this.#engine.classify(module, mirrorPixels(images, input.inputSize), input);
      probs = probs.map((p, i) => p.map((v, k) => (v + mirrored[i]![k]!) / 2));
    }
    const t = this.#calibration?.temperature ?? 1;
    return t === 1 ? probs : probs.map((p) => withTemperature(p, t));
  }

  /**
   * Frees what inference keeps between calls (onnxruntime's session and arena, libtorch's
   * folded weights); the next forward makes them again. For a server going idle.
   *
   * @example
   * m.releaseMemory();
   */
  releaseMemory(): void {
    this.#engine.release();
    if (this.#module !== null) releaseFoldedView(this.#module);
  }

  /**
   * Predictions for image files (paths), encoded images (bytes), or a uint8 tensor of pixels
   * [N, C, H, W] at the input size; `batchSize` images run in each forward (default 16). Where an
   * unknown threshold is in force (`unknown`, default the load's setting), each has `unknown`
   * and `score` (docs/unknown.md).
   *
   * @example
   * const [p] = await m.predict(['cat.jpg'], { topK: 3 });
   * if (p.unknown) console.log(`none of the classes (nearest ${p.top[0].class})`);
   */
  async predict(inputs: PredictInput[] | Tensor, o: { topK?: number; batchSize?: number; unknown?: UnknownSetting; tta?: boolean } = {}): Promise<Prediction[]> {
    const k = o.topK ?? 5;
    const batch = o.batchSize ?? 16;
    const below = o.unknown === undefined ? this.unknownThreshold : unknownThreshold(o.unknown, this.#calibration?.threshold ?? null);
    if (!Array.isArray(inputs)) {
      const [c, h, w] = (this.#preprocess ?? this.module.config).inputSize;
      const px = pixelsOfTensor(inputs, [c, h, w]);
      return this.classify(px, o).map((p, i) => describePrediction(`tensor[${i}]`, p, this.#classes, k, below));
    }
    const out: Prediction[] = [];
    for (let at = 0; at < inputs.length; at += batch) {
      const part = inputs.slice(at, at + batch).map((x, i) => (typeof x === 'string' ? x : x instanceof Uint8Array ? { bytes: x, name: `input[${at + i}]` } : x));
      const px = await Promise.all(part.map((x) => this.pixels(x)));
      this.classify(px, o).forEach((p, i) => out.push(describePrediction(typeof part[i] === 'string' ? part[i] : part[i]!.name, p, this.#classes, k, below)));
    }
    return out;
  }

  #exportSource(): ExportSource {
    const t = this.#calibration?.temperature ?? 1;
    return { module: this.module, classes: this.#classes, preprocess: this.#record(), where: this.#source, ...(t === 1 ? {} : { temperature: t }), unknownThreshold: this.unknownThreshold };
  }

  /** The offline page's files (what `serve` serves at / and `export({ format: 'web' })` writes). */
  webFiles(): WebFile[] {
    return webFilesOf(this.#exportSource());
  }

  /**
   * Writes an ONNX file or the offline web page; refuses an `out` that holds something unless `overwrite`.
   *
   * @example
   * m.export({ format: 'onnx', out: 'model.onnx' });
   */
  export(o: ExportRequest): { onnxBytes: number } {
    return exportModel(this.#exportSource(), o);
  }

  /**
   * Serves the model over HTTP (POST /predict, GET /healthz, the web page at /) until `close()`.
   *
   * @example
   * const server = await m.serve({ port: 0 });
   */
  serve(o: Partial<ServeOptions> = {}): Promise<RunningServer> {
    const [c, h, w] = this.#record().inputSize;
    const options = { ...SERVE_DEFAULTS, ...o };
    // The engine is chosen (auto) and its session made before the first request, for a lone
    // client and for a full batch: no request waits for a timing. Other batch sizes are timed
    // when they first come (once per machine: the choice is cached).
    if (this.#engine.request !== 'libtorch') for (const n of new Set([1, options.maxBatch])) this.classify(Array.from({ length: n }, () => new Uint8Array(c * h * w).fill(128)));
    return startServer(this, options);
  }

  /**
   * Writes the model folder (weights and config, with the preprocessing record) that `load` reads.
   *
   * @example
   * m.save('runs/mine', { provenance: { note: 'trained by hand' } });
   */
  save(dir: string, o: { provenance?: Record<string, unknown> } = {}): void {
    saveModelFolder(dir, this.module, { classes: this.#classes, preprocess: this.#preprocess, calibration: this.#calibration, provenance: o.provenance ?? {}, ...(this.#tta ? { tta: true } : {}) });
  }

  dispose(): void {
    this.#engine.dispose();
    this.#module?.dispose();
    this.#module = null;
  }
}
