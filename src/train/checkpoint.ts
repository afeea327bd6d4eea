/**
 * One checkpoint file per run, rewritten atomically every epoch: model weights, optimizer
 * state and the JSON run state (epoch, scheduler, history, best) travel in one safetensors
 * file, so a reader never sees a model from one epoch and an optimizer from another.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../io/safetensors.js';
import { TlcvError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

export interface CheckpointState {
  epoch: number;
  run: Record<string, unknown>;
}

export interface Checkpoint {
  model: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
  best: Map<string, Tensor>;
  optimizerMeta: unknown;
  state: CheckpointState;
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

export function writeCheckpoint(dir: string, c: Checkpoint): void {
  const all = new Map<string, Tensor>();
  for (const [k, v] of c.model) all.set(`model.${k}`, v);
  for (const [k, v] of c.optimizer) all.set(`optim.${k}`, v);
  for (const [k, v] of c.best) all.set(`best.${k}`, v);
  writeSafetensors(checkpointPath(dir), all, {
    format: 'tlcv-checkpoint-1',
    state: JSON.stringify(c.state),
    optimizer: JSON.stringify(c.optimizerMeta),
  });
}

/** Reads a checkpoint; the caller owns (and disposes) the returned tensors. */
export function readCheckpoint(dir: string): Checkpoint {
  const path = checkpointPath(dir);
  if (!existsSync(path)) throw new TlcvError('FILE', `--resume: no checkpoint at ${path}`);
  const meta = readSafetensorsMetadata(path);
  if (meta.format !== 'tlcv-checkpoint-1' || meta.state === undefined) {
    throw new TlcvError('FILE', `${path}: not a tlcv checkpoint (metadata format ${JSON.stringify(meta.format)})`);
  }
  const tensors = readSafetensors(path);
  const pick = (prefix: string): Map<string, Tensor> =>
    new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  return {
    model: pick('model.'),
    optimizer: pick('optim.'),
    best: pick('best.'),
    optimizerMeta: JSON.parse(meta.optimizer ?? 'null'),
    state: JSON.parse(meta.state) as CheckpointState,
  };
}

/**
 * The numeric plan the checkpointed run trained with, so that `--resume` continues with it rather
 * than timing plans again; null when there is no checkpoint or it predates plans.
 */
export function readCheckpointPlan(dir: string): { bf16: boolean; channelsLast: boolean } | null {
  const path = checkpointPath(dir);
  if (!existsSync(path)) return null;
  try {
    const state = JSON.parse(readSafetensorsMetadata(path).state ?? 'null') as { run?: { plan?: { bf16?: unknown; channelsLast?: unknown } } } | null;
    const plan = state?.run?.plan;
    if (typeof plan?.bf16 !== 'boolean' || typeof plan.channelsLast !== 'boolean') return null;
    return { bf16: plan.bf16, channelsLast: plan.channelsLast };
  } catch {
    return null; // a damaged checkpoint is reported by the resume itself
  }
}
