/**
 * Accumulates ONNX nodes and initializers with unique names, as onnx-proto's message objects.
 * Encoding is onnx-proto's (protobufjs code generated from ONNX's own onnx.proto), so no byte
 * of the file format is written by hand here.
 */
import onnxProto from 'onnx-proto';
import { TlcvError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';

export const { onnx } = onnxProto;
export type OnnxNode = onnxProto.onnx.INodeProto;
export type OnnxTensor = onnxProto.onnx.ITensorProto;
export type OnnxAttribute = onnxProto.onnx.IAttributeProto;

/** A value flowing through the graph: its name and rank (Gemm needs 2-d input). */
export interface Value {
  name: string;
  rank: number;
}

type AttrValue = number | number[] | string;
const AttrType = onnx.AttributeProto.AttributeType;

function attribute(name: string, v: AttrValue, float: boolean): OnnxAttribute {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  return float ? { name, type: AttrType.FLOAT, f: v } : { name, type: AttrType.INT, i: v };
}

/** Float32 data as ONNX raw_data: little-endian bytes, which typed arrays are on every platform Node runs on. */
export function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new TlcvError('MODEL', `internal: initializer ${name} has ${data.length} values for dims [${dims.join(', ')}]`);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly #used = new Set<string>();

  /** A name not used yet, from `base` (a module path such as "layer1.0.conv1"). */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = clean;
    for (let i = 1; this.#used.has(name); i += 1) name = `${clean}_${i}`;
    this.#used.add(name);
    return name;
  }

  /** Adds a float32 initializer copied from a tensor (any layout or dtype). */
  addTensor(base: string, t: Tensor): string {
    const data = t.contiguous().float().toTypedArray() as Float32Array;
    return this.addFloats(base, t.shape, Float32Array.from(data));
  }

  addFloats(base: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /**
   * Adds one node and returns its output name. `floatAttrs` names the attributes that ONNX
   * types as float (alpha, epsilon); every other number is an int.
   */
  node(op: string, inputs: string[], base: string, attrs: Record<string, AttrValue> = {}, floatAttrs: string[] = []): string {
    const output = this.fresh(`${base}/${op}`);
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v, floatAttrs.includes(k)));
    this.nodes.push({ opType: op, name: output, input: inputs, output: [output], attribute: attribute_ });
    return output;
  }

  /** Renames the value `from` (a node output) to `to`, for the graph's named outputs. */
  renameOutput(from: string, to: string): void {
    if (this.#used.has(to)) throw new TlcvError('MODEL', `internal: output name ${to} is taken`);
    this.#used.add(to);
    for (const n of this.nodes) {
      n.output = (n.output ?? []).map((o) => (o === from ? to : o));
      n.input = (n.input ?? []).map((i) => (i === from ? to : i));
    }
  }
}
