/**
 * ONNX forms of the mobile-CNN layers (EfficientNet, MobileNetV3, RegNet): the sigmoid family,
 * squeeze-excitation and stochastic depth, one small emitter per module kind, for the walker in
 * onnx-walk.ts. Opset 13 has no HardSwish (it came in 14), so Hardswish is written as
 * x * HardSigmoid(x), which is its definition.
 */
import { Hardsigmoid, Hardswish, Module, Sigmoid, SiLU, SqueezeExcitation, StochasticDepth } from '../nn/index.js';
import type { GraphBuilder, Value } from './onnx-builder.js';

/** Emits a child module (through the walker, so a conv, an activation or a chain each get their own form). */
export type EmitChild = (child: Module, path: string, x: Value) => Value;

/** An emitter for one module kind: its ONNX nodes from input `x`, and its output. */
export type LeafEmitter<M extends Module> = (g: GraphBuilder, m: M, path: string, x: Value, emitChild: EmitChild) => Value;

/** PyTorch's hardsigmoid, relu6(x + 3) / 6, is ONNX's HardSigmoid with alpha 1/6, beta 1/2. */
const hardSigmoid = (g: GraphBuilder, path: string, x: Value): string => g.node('HardSigmoid', [x.name], path, { alpha: 1 / 6, beta: 0.5 }, ['alpha', 'beta']);

const emitSigmoid: LeafEmitter<Sigmoid> = (g, _m, path, x) => ({ name: g.node('Sigmoid', [x.name], path), rank: x.rank });

/** x * sigmoid(x). */
const emitSilu: LeafEmitter<SiLU> = (g, _m, path, x) => ({ name: g.node('Mul', [x.name, g.node('Sigmoid', [x.name], path)], path), rank: x.rank });

const emitHardsigmoid: LeafEmitter<Hardsigmoid> = (g, _m, path, x) => ({ name: hardSigmoid(g, path, x), rank: x.rank });

/** x * hardsigmoid(x). */
const emitHardswish: LeafEmitter<Hardswish> = (g, _m, path, x) => ({ name: g.node('Mul', [x.name, hardSigmoid(g, path, x)], path), rank: x.rank });

/** x * gate(x): its children (pool, fc1, activation, fc2, gate) emitted in forward's order, then the Mul. */
const emitSqueezeExcitation: LeafEmitter<SqueezeExcitation> = (g, se, path, x, emitChild) => {
  const children = se.namedChildren();
  let scale = x;
  for (const name of ['avgpool', 'fc1', 'activation', 'fc2', 'scale_activation']) scale = emitChild(children.get(name)!, `${path}.${name}`, scale);
  return { name: g.node('Mul', [scale.name, x.name], path), rank: x.rank };
};

/** Stochastic depth is the identity at inference. */
const emitStochasticDepth: LeafEmitter<StochasticDepth> = (_g, _m, _path, x) => x;

/** The module kinds this file gives an ONNX form. */
export const CNN_EMITTERS: [abstract new (...args: never[]) => Module, LeafEmitter<never>][] = [
  [Sigmoid, emitSigmoid],
  [SiLU, emitSilu],
  [Hardsigmoid, emitHardsigmoid],
  [Hardswish, emitHardswish],
  [SqueezeExcitation, emitSqueezeExcitation],
  [StochasticDepth, emitStochasticDepth],
];
