/** Optimizer parity cases as both test/peer/optim_parity.py and the optimizer tests read them. */
import { SGD, Adam, AdamW, type Optimizer } from '../../src/optim/index.js';
import type { Tensor } from '../../src/tensor/index.js';

export interface OptimCase {
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, number | boolean | number[]>;
  /** lr of the two parameter groups (parameters 0-1 and the rest), when not the default. */
  groupLrs?: number[];
}

const SNAKE: Record<string, string> = { weightDecay: 'weight_decay' };

/** The case as the peer script takes it (PyTorch's option names). */
export const toPython = (c: OptimCase): unknown => ({
  optimizer: c.optimizer,
  options: Object.fromEntries(Object.entries(c.options).map(([k, v]) => [SNAKE[k] ?? k, v])),
  ...(c.groupLrs ? { group_lrs: c.groupLrs } : {}),
});

export const caseName = (c: OptimCase): string => `${c.optimizer} ${JSON.stringify(c.options)}${c.groupLrs ? ` groups ${c.groupLrs}` : ''}`;

/** The case's optimizer over two groups, parameters 0-1 and the rest, as the peer builds it. */
export function makeCaseOptimizer(c: OptimCase, params: Tensor[], extra: Record<string, unknown>): Optimizer {
  const lrs = c.groupLrs ?? [];
  const groups = [
    { params: params.slice(0, 2), lr: lrs[0], name: 'conv' },
    { params: params.slice(2), lr: lrs[1], name: 'rest' },
  ];
  const o = { ...c.options, ...extra } as Record<string, unknown>;
  if (c.optimizer === 'SGD') return new SGD(groups, o);
  return c.optimizer === 'Adam' ? new Adam(groups, o) : new AdamW(groups, o);
}
