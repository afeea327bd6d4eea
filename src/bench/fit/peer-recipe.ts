/**
 * The PyTorch peer's recipe for a fit scenario (peers/fit_recipe.py): PyTorch's transfer-learning
 * tutorial ("finetuning the ConvNet": a new last layer, every layer trained with SGD, lr 0.001,
 * momentum 0.9, StepLR 7 / 0.1, 25 epochs, batch 4), on the same source weights and the same
 * decoded, normalised images as tlcv's runs. Only seed-cnn sources: the peer builds the model
 * from peers/seed_cnn.py.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TlcvError } from '../../errors.js';
import { DataLoader, type ImageDataset } from '../../data/index.js';
import { disposeAll, type Tensor } from '../../tensor/index.js';
import { readPeerDir, writePeerInput } from '../../io/peer-files.js';
import { loadInMemoryForModel, loadModelFolder } from '../../runs/index.js';
import type { BenchContext } from '../core/section.js';
import { packageFile } from '../core/workers.js';
import type { FitBenchConfig, PeerRecipeRow } from './types.js';

/** The recipe as the report names it. */
export function recipeName(r: FitBenchConfig['recipe']): string {
  return `PyTorch tutorial fine-tune (SGD lr ${r.lr}, momentum ${r.momentum}, StepLR ${r.stepSize}/${r.gamma}, ${r.epochs} epochs, batch ${r.batch})`;
}

/** Runs the recipe on `train` from the model folder `sourceDir`, scored on `test`. */
export async function peerRecipe(ctx: BenchContext, c: FitBenchConfig, sourceDir: string, train: string, test: string, name: string): Promise<PeerRecipeRow> {
  const { model, config, preprocess } = loadModelFolder(sourceDir);
  const owned: Tensor[] = [];
  try {
    if (config.model !== 'seed-cnn') throw new TlcvError('ARGUMENT', `the fit bench's PyTorch recipe builds seed-cnn only, not ${config.model}`);
    // One batch holding every image: the scenarios are small (at most a few thousand images).
    const whole = (ds: ImageDataset): { x: Tensor; y: Tensor } => {
      const b = new DataLoader(ds, { batchSize: ds.n, mean: config.mean, std: config.std }).batch(Int32Array.from({ length: ds.n }, (_, i) => i));
      owned.push(b.x, b.y);
      return b;
    };
    const trainSet = await loadInMemoryForModel(train, model, { preprocess });
    const numClasses = trainSet.classes.length;
    const tr = whole(trainSet);
    const te = whole(await loadInMemoryForModel(test, model, { preprocess }));
    const dir = join(ctx.dir, 'fit', `peer-${name}`);
    const state = Object.fromEntries([...model.stateDict()].map(([k, v]) => [`sd.${k}`, v]));
    writePeerInput(join(dir, 'in'), { trainX: tr.x, trainY: tr.y, testX: te.x, testY: te.y, ...state }, {
      inputSize: config.inputSize,
      sourceClasses: config.numClasses,
      numClasses,
      hidden: typeof config.options.hidden === 'number' ? config.options.hidden : 512,
      threads: ctx.cfg.threads,
      seed: 1,
      ...c.recipe,
    });
    const run = spawnSync(ctx.workerEnv.python, [packageFile('peers/fit_recipe.py'), join(dir, 'in'), join(dir, 'out')], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`peers/fit_recipe.py failed: ${run.stderr.trim().slice(-400)}`);
    const out = readPeerDir(join(dir, 'out'));
    disposeAll(out.tensors);
    return { recipe: recipeName(c.recipe), accuracy: out.meta.accuracy as number, seconds: out.meta.seconds as number };
  } finally {
    disposeAll(owned);
    model.dispose();
  }
}
