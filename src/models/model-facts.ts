/**
 * What `tlcv models` shows about each model beyond its zoo entry, cached under the cache root's
 * `models/`: its cost (parameters, multiply-adds: counted once, then read back) in costs.json,
 * and its training and inference images/s as `tlcv bench` last measured them on this machine
 * in speeds.json (one entry per model, input, mode, CPU and thread count; the latest wins).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TlcvError } from '../errors.js';
import { cacheDir } from '../io/cache.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { getModelConfig } from './registry.js';
import { measureModelCost, type ModelCost } from './model-cost.js';

/** Bumped when the counting rules change, so older counts are made again. */
const COST_VERSION = 1;

export interface MeasuredSpeed {
  model: string;
  inputSize: [number, number, number];
  mode: 'train' | 'infer';
  batch: number;
  /** tlcv's default (auto) plan, median over the bench's repetitions. */
  imagesPerSecond: number;
  threads: number;
  /** The CPU's model name, as the bench reports it. */
  cpu: string;
  /** ISO date of the bench run. */
  measuredAt: string;
}

function readJson<T>(file: string, fallback: T): T {
  if (!existsSync(file)) return fallback;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    // A cache that cannot be read is made again, never an error.
    return fallback;
  }
}

const sizeKey = (s: number[]): string => s.join('x');

/**
 * Each model's cost at its zoo entry's input size, counted on first use and cached; `log`
 * hears about a count before it runs (the largest models take seconds).
 *
 * @example
 * const [r18] = modelCosts(['resnet18']); // r18.params 11689512, r18.macs 1.81e9 (null where the addon cannot load)
 */
export function modelCosts(names: string[], o: { dir?: string; log?: (line: string) => void } = {}): (ModelCost | null)[] {
  const file = join(o.dir ?? cacheDir('models'), 'costs.json');
  const cached = readJson<{ version: number; costs: Record<string, ModelCost> }>(file, { version: COST_VERSION, costs: {} });
  const costs = cached.version === COST_VERSION ? cached.costs : {};
  const missing = names.filter((n) => costs[`${n}@${sizeKey(getModelConfig(n).inputSize)}`] === undefined);
  if (missing.length > 0) {
    o.log?.(`counting parameters and multiply-adds of ${missing.length} model${missing.length === 1 ? '' : 's'} once (cached in ${file})`);
    try {
      for (const n of missing) {
        const cost = measureModelCost(n);
        costs[`${n}@${sizeKey(cost.inputSize)}`] = cost;
      }
    } catch (e) {
      // Listing the zoo must work where the addon cannot load (the CLI's promise): the counts
      // that need a forward are left out, and why is said once.
      if (!(e instanceof TlcvError && e.code === 'NATIVE_LOAD')) throw e;
      o.log?.(`parameters and GFLOPs not counted: ${e.message.split('\n')[0]}`);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, `${JSON.stringify({ version: COST_VERSION, costs }, null, 1)}\n`);
  }
  return names.map((n) => costs[`${n}@${sizeKey(getModelConfig(n).inputSize)}`] ?? null);
}

const speedKey = (s: MeasuredSpeed): string => [s.model, sizeKey(s.inputSize), s.mode, s.cpu, s.threads].join('|');

/** The speeds `tlcv bench` measured, newest per model, input, mode, CPU and thread count. */
export function readMeasuredSpeeds(dir = cacheDir('models')): MeasuredSpeed[] {
  return Object.values(readJson<Record<string, MeasuredSpeed>>(join(dir, 'speeds.json'), {}));
}

/**
 * Keeps a bench figure for `tlcv models` (the latest for its key replaces the one before).
 *
 * @example
 * recordMeasuredSpeeds([{ model: 'resnet18', inputSize: [3, 224, 224], mode: 'infer', batch: 64, imagesPerSecond: 48, threads: 2, cpu: 'AMD EPYC', measuredAt: new Date().toISOString() }]);
 */
export function recordMeasuredSpeeds(speeds: MeasuredSpeed[], dir = cacheDir('models')): void {
  if (speeds.length === 0) return;
  const file = join(dir, 'speeds.json');
  const all = readJson<Record<string, MeasuredSpeed>>(file, {});
  for (const s of speeds) all[speedKey(s)] = s;
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, `${JSON.stringify(all, null, 1)}\n`);
}
