/**
 * A model's forward written down as data, for code that walks the module tree instead of
 * running it (the ONNX exporter in src/deploy). Most modules need none: a Sequential applies
 * its children in order and a layer is its own kind. A class whose forward does more (a
 * residual add, pooling or flatten done with functional ops, one ReLU module applied twice)
 * describes that forward with these steps in a `forwardSpec()` method next to `forward`.
 */
import type { Module } from '../nn/index.js';

/** `F.adaptiveAvgPool2d(x, [1, 1])`. */
export interface GlobalAvgPoolStep {
  op: 'globalAvgPool';
}

/** `x.flatten(1)`. */
export interface FlattenStep {
  op: 'flatten';
}

/** `body(x) + shortcut(x)`; an empty shortcut is the identity. */
export interface ResidualStep {
  residual: ForwardStep[];
  shortcut: ForwardStep[];
}

/** A child's name (apply that child), or one of the functional steps. */
export type ForwardStep = string | GlobalAvgPoolStep | FlattenStep | ResidualStep;

export const GLOBAL_AVG_POOL: GlobalAvgPoolStep = { op: 'globalAvgPool' };
export const FLATTEN: FlattenStep = { op: 'flatten' };

/**
 * `body(x) + shortcut(x)` as a step.
 *
 * @example
 * residual(['conv1', 'bn1', 'relu', 'conv2', 'bn2'], ['downsample'])
 */
export function residual(body: ForwardStep[], shortcut: ForwardStep[] = []): ResidualStep {
  return { residual: body, shortcut };
}

/** A module that describes its own forward. */
export interface DescribesForward {
  /** The steps `forward` takes, in order, with this module's child names. */
  forwardSpec(): ForwardStep[];
}

/** Whether a module describes its forward with `forwardSpec()`. */
export function describesForward(m: Module): m is Module & DescribesForward {
  return typeof (m as Partial<DescribesForward>).forwardSpec === 'function';
}
