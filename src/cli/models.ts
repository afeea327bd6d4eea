/**
 * `tlcv models`: the zoo as a user chooses from it, one row per model: its size (parameters,
 * GFLOPs at its default input, counted once and cached), its default input and preprocessing
 * (what a photo folder gets), the training and inference images/s `tlcv bench` measured on this
 * CPU (cached by the bench; blank until it ran), and where its pretrained weights come from.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TlcvError } from '../errors.js';
import { resolveDataConfig, storedSize } from '../data/index.js';
import { defaultWeightsDir, getModelConfig, listModels, modelCosts, readMeasuredSpeeds, type MeasuredSpeed, type ModelCost } from '../models/index.js';
import { cpuModelName } from '../bench/core/machine.js';
import { defineCommand } from './command.js';

interface ModelRow {
  model: string;
  /** null where they could not be counted (the native addon did not load). */
  params: number | null;
  gflops: number | null;
  inputSize: [number, number, number];
  preprocessing: string;
  /** images/s of tlcv's default plan at the default input, as `tlcv bench` measured them here (null: not measured). */
  trainImagesPerSecond: number | null;
  inferImagesPerSecond: number | null;
  measured: Pick<MeasuredSpeed, 'batch' | 'threads' | 'cpu' | 'measuredAt'> | null;
  weights: string | null;
  weightsCached: boolean;
}

/** A photo's default path through preprocessing, in words. */
function preprocessing(name: string): string {
  const config = getModelConfig(name);
  const p = resolveDataConfig({ model: config });
  const [, h, w] = p.inputSize;
  // seed-cnn's digits keep 28 px; a photo folder gets its own larger size.
  const photos = p.inputSize.slice(1).join('x') === config.inputSize.slice(1).join('x') ? '' : 'photos: ';
  if (p.resize === 'fill') return `${photos}whole image to ${h}x${w}, ${p.interpolation}`;
  const [sh, sw] = storedSize(h, w, p);
  return `${photos}resize ${Math.min(sh, sw)} ${p.interpolation}, centre crop ${h}x${w}`;
}

function rowOf(name: string, cost: ModelCost | null, speeds: MeasuredSpeed[]): ModelRow {
  const config = getModelConfig(name);
  const at = (mode: MeasuredSpeed['mode']): MeasuredSpeed | undefined =>
    speeds.filter((s) => s.model === name && s.mode === mode && s.inputSize.join('x') === config.inputSize.join('x')).sort((a, b) => b.measuredAt.localeCompare(a.measuredAt))[0];
  const [train, infer] = [at('train'), at('infer')];
  const any = infer ?? train;
  const file = config.pretrained?.file;
  return {
    model: name,
    params: cost?.params ?? null,
    gflops: cost === null ? null : cost.macs / 1e9,
    inputSize: config.inputSize,
    preprocessing: preprocessing(name),
    trainImagesPerSecond: train?.imagesPerSecond ?? null,
    inferImagesPerSecond: infer?.imagesPerSecond ?? null,
    measured: any ? { batch: any.batch, threads: any.threads, cpu: any.cpu, measuredAt: any.measuredAt } : null,
    weights: config.pretrained?.url ?? null,
    weightsCached: file !== undefined && existsSync(join(defaultWeightsDir(), file)),
  };
}

const millions = (n: number | null): string => (n === null ? '-' : `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`);
const rate = (v: number | null): string => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

export const modelsCommand = defineCommand({
  name: 'models',
  usage: 'tlcv models [NAME...] [--json]',
  flags: {
    json: { kind: 'bool', help: 'print one JSON document: [{"model", "params", "gflops", "inputSize", "preprocessing", "trainImagesPerSecond", "inferImagesPerSecond", "measured", "weights", "weightsCached"}]' },
  },
  async run({ flags: f, positional }) {
    const all = listModels();
    const unknown = positional.filter((n) => !all.includes(n));
    if (unknown.length > 0) throw new TlcvError('ARGUMENT', `unknown model ${unknown.map((n) => JSON.stringify(n)).join(', ')}: expected one of ${all.join(', ')}`);
    const names = positional.length > 0 ? positional : all;
    const cpu = cpuModelName();
    const speeds = readMeasuredSpeeds().filter((s) => s.cpu === cpu);
    const rows = modelCosts(names, { log: (line) => console.error(line) }).map((c, i) => rowOf(names[i]!, c, speeds));
    if (f.json) {
      console.log(JSON.stringify(rows));
      return 0;
    }
    const head = ['model', 'params', 'GFLOPs', 'input', 'default preprocessing', 'train img/s', 'infer img/s', 'ImageNet weights'];
    const cells = rows.map((r) => [r.model, millions(r.params), r.gflops === null ? '-' : r.gflops.toFixed(2), r.inputSize.join('x'), r.preprocessing, rate(r.trainImagesPerSecond), rate(r.inferImagesPerSecond), r.weights === null ? 'none' : r.weightsCached ? 'cached' : 'not cached']);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    for (const line of [head, ...cells]) console.log(line.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
    const measured = rows.find((r) => r.measured !== null)?.measured;
    console.log('');
    console.log('GFLOPs: multiply-adds of one image at the default input, as torchvision counts them.');
    console.log(
      measured
        ? `img/s: tlcv's default plan at the default input, measured by tlcv bench on ${measured.cpu} with ${measured.threads} threads (batch ${measured.batch}, ${measured.measuredAt.slice(0, 10)}); - where not measured: tlcv bench --only throughput --models NAME`
        : `img/s: not measured on this CPU yet: tlcv bench --only throughput --models NAME measures them (${cpu}).`,
    );
    return 0;
  },
});
