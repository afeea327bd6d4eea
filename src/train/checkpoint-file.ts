/**
 * The checkpoint file: model weights, optimizer state, the run's state (epoch, history, best
 * score, LR trace, plan) and callbacks' state travel in one safetensors file, so a reader never
 * sees a model from one epoch and an optimizer from another.
 */
import { existsSync } from 'node:fs';
import type { Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import { readSafetensors, readSafetensorsMetadata, safetensorsChunks } from '../io/safetensors.js';
import { join } from 'node:path';
import { RUN_FILES, runPath } from '../io/run-folder.js';
import type { CallbackState, RunState } from './callback.js';

const FORMAT = 'tlcv-checkpoint-2';
// Version 1 held one callback's tensors, the best weights, under `best.`.
const FORMAT_1 = 'tlcv-checkpoint-1';

export interface CheckpointContents {
  model: Map<string, Tensor>;
  optimizer: Map<string, Tensor>;
  optimizerMeta: unknown;
  run: RunState;
  callbacks: Record<string, CallbackState>;
}

/** The file's tensors and metadata (the tensors stay the caller's). */
export function checkpointPayload(c: CheckpointContents): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const tensors = new Map<string, Tensor>();
  for (const [k, v] of c.model) tensors.set(`model.${k}`, v);
  for (const [k, v] of c.optimizer) tensors.set(`optim.${k}`, v);
  const metas: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(c.callbacks)) {
    for (const [k, v] of s.tensors ?? []) tensors.set(`cb.${name}.${k}`, v);
    if (s.meta !== undefined) metas[name] = s.meta;
  }
  const { epoch, ...run } = c.run;
  return {
    tensors,
    metadata: { format: FORMAT, state: JSON.stringify({ epoch, run: { ...run, callbacks: metas } }), optimizer: JSON.stringify(c.optimizerMeta) },
  };
}

/** The bytes of a checkpoint file, chunk by chunk. */
export function checkpointChunks(p: { tensors: Map<string, Tensor>; metadata: Record<string, string> }): Iterable<Uint8Array> {
  return safetensorsChunks(p.tensors, p.metadata);
}

/**
 * Reads a checkpoint; the caller owns (and disposes) the returned tensors.
 *
 * @example
 * const c = readCheckpoint('runs/a'); // c.run.epoch, c.model, ...
 */
export function readCheckpoint(dir: string): CheckpointContents {
  const path = runPath(dir, 'checkpoint');
  if (!existsSync(path)) throw new TlcvError('FILE', `--resume: no checkpoint at ${path}`);
  const meta = readSafetensorsMetadata(path);
  checkFormat(meta, path);
  return parseCheckpoint(readSafetensors(path), meta);
}

function checkFormat(meta: Record<string, string>, where: string): void {
  if ((meta.format !== FORMAT && meta.format !== FORMAT_1) || meta.state === undefined) {
    throw new TlcvError('FILE', `${where}: not a tlcv checkpoint (metadata format ${JSON.stringify(meta.format)})`);
  }
}

/**
 * A checkpoint's contents from its tensors and metadata (a file's, or rank 0's sent to the
 * other ranks of a data-parallel run); the result owns the tensors.
 *
 * @example
 * const c = parseCheckpoint(shared.tensors, shared.metadata);
 */
export function parseCheckpoint(tensors: Map<string, Tensor>, meta: Record<string, string>): CheckpointContents {
  checkFormat(meta, 'checkpoint');
  const pick = (prefix: string): Map<string, Tensor> => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  const state = JSON.parse(meta.state!) as { epoch: number; run: Omit<RunState, 'epoch'> & { callbacks?: Record<string, unknown> } };
  const callbacks: Record<string, CallbackState> = {};
  const names = new Set([...tensors.keys()].filter((k) => k.startsWith('cb.')).map((k) => k.split('.')[1]!));
  for (const name of [...names, ...Object.keys(state.run.callbacks ?? {})]) {
    callbacks[name] = { tensors: pick(`cb.${name}.`), ...(state.run.callbacks?.[name] !== undefined ? { meta: state.run.callbacks[name] } : {}) };
  }
  if (meta.format === FORMAT_1) callbacks['keep-best'] = { tensors: pick('best.') };
  return {
    model: pick('model.'),
    optimizer: pick('optim.'),
    optimizerMeta: JSON.parse(meta.optimizer ?? 'null'),
    run: { epoch: state.epoch, history: state.run.history, bestAcc: state.run.bestAcc, bestEpoch: state.run.bestEpoch, lrTrace: state.run.lrTrace, plan: state.run.plan ?? null },
    callbacks,
  };
}

/**
 * The batch size and epochs of the run checkpointed in `dir` (or in its head stage, for a
 * fine-tune interrupted there), so that `--resume` trains on with the sizes it chose; null when
 * there is no checkpoint or it predates them.
 *
 * @example
 * readCheckpointSizes('runs/a'); // { batchSize: 8, epochs: 25 }
 */
export function readCheckpointSizes(dir: string): { batchSize: number; epochs: number } | null {
  for (const d of [dir, join(dir, RUN_FILES.headStage)]) {
    const path = runPath(d, 'checkpoint');
    if (!existsSync(path)) continue;
    try {
      const state = JSON.parse(readSafetensorsMetadata(path).state ?? 'null') as { run?: { sizes?: { batchSize?: unknown; epochs?: unknown } } } | null;
      const s = state?.run?.sizes;
      if (typeof s?.batchSize === 'number' && typeof s.epochs === 'number') return { batchSize: s.batchSize, epochs: s.epochs };
    } catch {
      // a damaged checkpoint is reported by the resume itself
    }
  }
  return null;
}

/**
 * The numeric plan the checkpointed run trained with, so that `--resume` continues with it rather
 * than timing plans again; null when there is no checkpoint or it predates plans.
 *
 * @example
 * readCheckpointPlan('runs/a'); // { bf16: true, channelsLast: true }
 */
export function readCheckpointPlan(dir: string): { bf16: boolean; channelsLast: boolean } | null {
  const path = runPath(dir, 'checkpoint');
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
