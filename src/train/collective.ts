/**
 * What a Learner that is one of several processes must agree on with the others, so that every
 * rank takes the same steps and stops at the same place:
 * - the numeric plan: rank 0's (a rank that timed its own could pick another, and ranks that
 *   compute differently no longer train one model);
 * - each step's loss, before the not-a-number check (one rank stopping alone would leave the
 *   others waiting in the next collective), with any interrupt (SIGINT/SIGTERM) folded in, so
 *   all ranks stop after the same step;
 * - the number of steps an epoch has;
 * - a resumed checkpoint, which rank 0 reads and sends (the other hosts need not see its file).
 * Every function here is a collective: every rank calls it at the same point of the run.
 */
import { TlcvError } from '../errors.js';
import { fromTypedArray, zeros, type DType, type Tensor } from '../tensor/index.js';
import type { ExecutionPlan } from '../execution/index.js';
import type { Collective } from './callback.js';

/** Rank 0's numbers on every rank: a sum to which the other ranks add zeros. */
export function fromMain(c: Collective, values: number[], what: string): Promise<number[]> {
  return c.allreduceSums(c.isMain ? values : values.map(() => 0), what);
}

/**
 * The plan every rank trains with: rank 0's fixed or resumed plan when it has one; otherwise
 * every rank times the candidates (at the same time, so nobody waits long) and takes rank 0's choice.
 */
export async function agreePlan(c: Collective, plan: ExecutionPlan | null, device: string, choose: () => Promise<ExecutionPlan>): Promise<ExecutionPlan> {
  const [fixed, bf16, channelsLast] = await fromMain(c, plan === null ? [0, 0, 0] : [1, Number(plan.bf16), Number(plan.channelsLast)], 'agreement on the numeric plan');
  if (fixed === 1) return { bf16: bf16 === 1, channelsLast: channelsLast === 1, device };
  const mine = await choose();
  const [b, cl] = await fromMain(c, [Number(mine.bf16), Number(mine.channelsLast)], 'agreement on the numeric plan');
  return { bf16: b === 1, channelsLast: cl === 1, device };
}

/** Every rank must take the same number of steps, or the collectives stop pairing up. */
export async function agreeSteps(c: Collective, steps: number): Promise<void> {
  const [main] = await fromMain(c, [steps], 'agreement on the steps per epoch');
  const [differ] = await c.allreduceSums([steps === main ? 0 : 1], 'agreement on the steps per epoch');
  if (differ! > 0) {
    throw new TlcvError(
      'DISTRIBUTED',
      `data-parallel training: the training data gives ${steps} batches an epoch on rank ${c.rank} and ${main} on rank 0; every rank must take the same number of steps (give each rank its shard of the same data, e.g. through DistributedSampler)`,
    );
  }
}

/**
 * One step's loss averaged over the ranks, and the interrupt any rank received (SIGTERM wins):
 * one small allreduce per step, which the ranks reach together anyway after the gradients'.
 */
export function agreeStep(c: Collective, loss: number, signal: NodeJS.Signals | null): { loss: number; signal: NodeJS.Signals | null } {
  const [sum, int, term] = c.allreduceSumsSync([loss, signal === 'SIGINT' ? 1 : 0, signal === 'SIGTERM' ? 1 : 0], "agreement on the step's loss");
  return { loss: sum! / c.worldSize, signal: term! > 0 ? 'SIGTERM' : int! > 0 ? 'SIGINT' : null };
}

/** The training loop's questions whose answers involve the other ranks of a data-parallel run. */
export interface Agreements {
  /** This process's rank (0 alone): ranks draw different dropout masks. */
  readonly rank: number;
  /** The interrupt to stop on (in a data-parallel run: the one the ranks agreed on). */
  interruptedBy(): NodeJS.Signals | null;
  /** The loss the not-a-number check sees: this step's, averaged over the ranks. */
  stepLoss(loss: number): number;
  /** An epoch's sums (loss, correct, images) over the ranks. */
  sums(values: number[], of: 'training' | 'validation'): Promise<number[]>;
}

/**
 * The loop's hooks that differ when the Learner is one of several processes:
 * with a group, interrupts count once the ranks agreed on them, each step's loss is averaged
 * over the ranks before the check, and the epoch's sums (validation's, when each rank scored
 * its own part) are added up.
 */
export function agreements(
  c: Collective | null,
  localInterrupt: () => NodeJS.Signals | null,
  valSharded: boolean,
): Agreements {
  if (c === null) return { rank: 0, interruptedBy: localInterrupt, stepLoss: (loss) => loss, sums: (values) => Promise.resolve(values) };
  let agreed: NodeJS.Signals | null = null;
  return {
    rank: c.rank,
    interruptedBy: () => agreed,
    stepLoss: (loss) => {
      const r = agreeStep(c, loss, localInterrupt());
      agreed ??= r.signal;
      return r.loss;
    },
    sums: (values, of) => (of === 'validation' && !valSharded ? Promise.resolve(values) : c.allreduceSums(values, `allreduce of the ${of} metrics`)),
  };
}

async function shareText(c: Collective, text: string, what: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const [n] = await fromMain(c, [bytes.length], what);
  if (n === 0) return '';
  const t = c.isMain ? fromTypedArray(bytes, [n!]) : zeros([n!], { dtype: 'uint8' });
  try {
    await c.broadcast([t], 0, what);
    return new TextDecoder().decode(t.toTypedArray() as Uint8Array);
  } finally {
    t.dispose();
  }
}

/** Named tensors with string metadata, as a checkpoint file holds them. */
export interface TensorPayload {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Rank 0's payload on every rank: rank 0 passes it (and keeps owning it), the others pass null
 * and own the tensors they receive.
 *
 * @example
 * const p = await shareFromMain(group, group.isMain ? checkpointPayload(contents) : null, 'sharing the checkpoint');
 */
export async function shareFromMain(c: Collective, payload: TensorPayload | null, what: string): Promise<TensorPayload> {
  if (c.isMain && payload === null) throw new Error('shareFromMain: rank 0 must pass the payload');
  const header = payload === null ? '' : JSON.stringify({ metadata: payload.metadata, tensors: [...payload.tensors].map(([k, t]) => [k, t.shape, t.dtype]) });
  const parsed = JSON.parse(await shareText(c, header, what)) as { metadata: Record<string, string>; tensors: [string, number[], DType][] };
  const tensors = payload?.tensors ?? new Map(parsed.tensors.map(([k, shape, dtype]) => [k, zeros(shape, { dtype })]));
  try {
    await c.broadcast([...tensors.values()], 0, what);
  } catch (e) {
    if (payload === null) for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: parsed.metadata };
}
