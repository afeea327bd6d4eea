/**
 * A tlcv model as an ONNX file: input `image` (float32 N x C x H x W, pixels in [0, 255], batch
 * dimension dynamic), the normalisation inside the graph so no runtime can get mean and std
 * wrong, outputs `logits` and `probabilities`, and the preprocessing and class names in
 * metadata_props. A calibrated model's temperature divides the logits before the softmax (so
 * `probabilities` are calibrated, `logits` are not) and its unknown threshold is in
 * metadata_props (`unknown_threshold`, on the largest probability; docs/unknown.md). Opset 13 (IR version 7), which Debian's onnx 1.12 checker, onnxruntime and
 * onnxruntime-web all take.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';
import type onnxProto from 'onnx-proto';
import { GraphBuilder, onnx, type Value } from './onnx-builder.js';
import { emitModule } from './onnx-walk.js';
import type { PreprocessConfig } from '../data/index.js';
import { preprocessingMetadata } from './preprocess.js';

export const ONNX_OPSET = 13;
const IR_VERSION = 7;

export interface OnnxExportOptions {
  classes: string[];
  /** The model folder's preprocessing record, written to metadata_props. */
  preprocessing: PreprocessConfig;
  /** Temperature scaling: `probabilities` is softmax(logits / temperature) (default 1: no Div node). */
  temperature?: number;
  /** The largest probability below which the image is unknown, as metadata_props `unknown_threshold`. */
  unknownThreshold?: number;
}

let version: string | null = null;

/** This package's version, from the package.json above this file. */
export function tlcvVersion(): string {
  if (version !== null) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tlcv' && typeof pkg.version === 'string') return (version = pkg.version);
    }
    dir = dirname(dir);
  }
  return (version = 'unknown');
}

/** The ONNX metadata_props of an export: classes, preprocessing, tlcv version, architecture. */
export function exportMetadata(model: ClassifierModel, o: OnnxExportOptions): Record<string, string> {
  const open: Record<string, string> = {};
  if (o.temperature !== undefined && o.temperature !== 1) open.temperature = String(o.temperature);
  if (o.unknownThreshold !== undefined) Object.assign(open, { unknown_score: 'max-softmax', unknown_threshold: String(o.unknownThreshold) });
  return preprocessingMetadata(o.preprocessing, o.classes, { model: model.config.name, tlcv_version: tlcvVersion(), ...open });
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}

/** image * (1 / (255 std)) + (-mean / std): the model's normalisation of [0, 255] pixels. */
function normalize(g: GraphBuilder, image: string, mean: number[], std: number[]): Value {
  const c = mean.length;
  const scale = g.addFloats('normalize.scale', [1, c, 1, 1], Float32Array.from(std, (s) => 1 / (255 * s)));
  const shift = g.addFloats('normalize.shift', [1, c, 1, 1], Float32Array.from(mean, (m, i) => -m / std[i]!));
  const scaled = g.node('Mul', [image, scale], 'normalize');
  return { name: g.node('Add', [scaled, shift], 'normalize'), rank: 4 };
}

/** How the graph's input comes: pixels in [0, 255] normalised inside the graph, or normalised already. */
type GraphInput = { kind: 'pixels'; mean: number[]; std: number[] } | { kind: 'normalized' };

/** The model's ONNX graph (nodes, weights, the input and both outputs). */
function graphOf(model: ClassifierModel, input: GraphInput, temperature = 1): onnxProto.onnx.IGraphProto {
  const [c, h, w] = model.config.inputSize;
  const g = new GraphBuilder();
  const name = g.fresh(input.kind === 'pixels' ? 'image' : 'input');
  const first = input.kind === 'pixels' ? normalize(g, name, input.mean, input.std) : { name, rank: 4 };
  const logits = emitModule(g, model, first);
  if (logits.rank !== 2) throw new TlcvError('MODEL', `internal: ${model.config.name} exported to a rank-${logits.rank} output, expected logits [N, classes]`);
  g.renameOutput(logits.name, 'logits');
  let scaled = 'logits';
  if (temperature !== 1) {
    const t = g.addFloats('temperature', [], Float32Array.of(temperature));
    scaled = g.node('Div', ['logits', t], 'probabilities');
  }
  g.nodes.push({ opType: 'Softmax', name: 'probabilities/Softmax', input: [scaled], output: ['probabilities'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
  const k = model.numClasses;
  return {
    name: model.config.name,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(name, ['N', c, h, w])],
    output: [valueInfo('logits', ['N', k]), valueInfo('probabilities', ['N', k])],
  };
}

function encode(graph: onnxProto.onnx.IGraphProto, more: Partial<onnxProto.onnx.IModelProto> = {}): Uint8Array {
  const proto: onnxProto.onnx.IModelProto = { irVersion: IR_VERSION, opsetImport: [{ domain: '', version: ONNX_OPSET }], producerName: 'tlcv', producerVersion: tlcvVersion(), graph, ...more };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}

/**
 * Encodes a model (in eval mode, float32 weights) as an ONNX file's bytes.
 *
 * @example
 * const { model, config, preprocess } = loadModelFolder('runs/digits');
 * writeFileSync('digits.onnx', exportOnnx(model, { classes: config.classes, preprocessing: preprocess }));
 */
export function exportOnnx(model: ClassifierModel, o: OnnxExportOptions): Uint8Array {
  const [c, h, w] = model.config.inputSize;
  const p = o.preprocessing;
  if (p.inputSize.join() !== [c, h, w].join() || ![1, c].includes(p.mean.length) || ![1, c].includes(p.std.length)) {
    throw new TlcvError('MODEL', `preprocessing input_size [${p.inputSize.join(', ')}] with ${p.mean.length} means does not fit ${model.config.name}'s input [${c}, ${h}, ${w}]`);
  }
  const perChannel = (v: number[]): number[] => Array.from({ length: c }, (_, i) => v[v.length === 1 ? 0 : i]!);
  if (o.classes.length !== model.numClasses) throw new TlcvError('MODEL', `${o.classes.length} class names for a model with ${model.numClasses} outputs`);
  const t = o.temperature ?? 1;
  if (!(t > 0 && Number.isFinite(t))) throw new TlcvError('ARGUMENT', `temperature: expected a positive number, got ${t}`);
  const graph = graphOf(model, { kind: 'pixels', mean: perChannel(p.mean), std: perChannel(p.std) }, t);
  const metadataProps = Object.entries(exportMetadata(model, o)).map(([key, value]) => ({ key, value }));
  return encode(graph, {
    metadataProps,
    docString: `${model.config.name} exported by tlcv: input "image" float32 [N, ${c}, ${h}, ${w}] in [0, 255] (see metadata_props for the resize and crop); outputs "logits" and "probabilities"${t === 1 ? '' : ` (softmax of logits / ${t}, the calibrated temperature)`}${o.unknownThreshold === undefined ? '' : `; an image whose largest probability is below metadata_props unknown_threshold (${o.unknownThreshold}) is unknown`}.`,
  });
}

/**
 * The graph tlcv's onnxruntime engine runs: the exported file's nodes and weights, but its input
 * `input` is normalised already (as the data loader and the engine's pixel path make it), so one
 * session serves evaluation's batches and predict's images alike. No metadata: it never leaves
 * the process.
 *
 * @example
 * const session = new OrtSession(engineOnnx(model), engineSessionOptions(getNumThreads()));
 */
export function engineOnnx(model: ClassifierModel): Uint8Array {
  return encode(graphOf(model, { kind: 'normalized' }));
}
