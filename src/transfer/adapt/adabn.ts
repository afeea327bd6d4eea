/**
 * AdaBN (Li et al., 2016): a network's BatchNorm statistics describe the domain it was trained
 * on; recomputing them on target images, with every weight left as it is, adapts it to that
 * domain. Done as torch.optim.swa_utils.update_bn does it: reset the statistics, set the
 * momentum to None (a cumulative average over the batches), forward the target data with the
 * BatchNorm layers in train mode, without gradients. Target labels are never read.
 */
import { TlcvError } from '../../errors.js';
import { BatchNorm2d } from '../../nn/index.js';
import { noGrad, tidy } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { forEachBatch, type BatchSource } from '../../data/index.js';
import { withPlan, type ExecutionPlan } from '../../execution/index.js';
import { cloneState, disposeState } from '../../execution/index.js';

export interface AdaBnResult {
  /** BatchNorm layers whose statistics were recomputed. */
  layers: number;
  batches: number;
  images: number;
}

/** The BatchNorm layers that keep running statistics, by module path. */
export function batchNormLayers(model: ClassifierModel): [string, BatchNorm2d][] {
  return [...model.namedModules()].filter((e): e is [string, BatchNorm2d] => e[1] instanceof BatchNorm2d && e[1].runningMean !== null);
}

/**
 * Throws the user error for a model AdaBN cannot adapt (no BatchNorm layer: seed-cnn, and the
 * LayerNorm models ConvNeXt, ViT and DINOv2), before any time goes into scoring or timing it.
 *
 * @example
 * checkAdaBnApplies(model);
 */
export function checkAdaBnApplies(model: ClassifierModel): void {
  if (batchNormLayers(model).length > 0) return;
  throw new TlcvError(
    'MODEL',
    `adabn recomputes BatchNorm statistics, but ${model.config.name} has no BatchNorm layer: use dann or pseudo-label with this model, or a model with BatchNorm (resnet18, mobilenet_v2)`,
  );
}

/**
 * Recomputes every BatchNorm layer's running mean and variance on the target batches; the
 * weights do not change. Every other module runs in eval mode (dropout off), and the model is
 * left in eval mode. Batches of one image are skipped: they have no variance to measure.
 *
 * @example
 * const target = withoutLabels(await loadDataset('mnist:test@shift=invert'));
 * adaptBatchNorm(model, new DataLoader(target, { batchSize: 128, mean: model.config.mean, std: model.config.std }), plan);
 */
export async function adaptBatchNorm(model: ClassifierModel, target: BatchSource, plan: ExecutionPlan): Promise<AdaBnResult> {
  checkAdaBnApplies(model);
  const layers = batchNormLayers(model);
  const saved = layers.map(([, bn]) => ({ bn, momentum: bn.momentum, evalWhenFrozen: bn.evalWhenFrozen }));
  // The old statistics come back if the pass fails or finds nothing to measure.
  const before = cloneState(new Map(layers.flatMap(([path, bn]) => [...bn.namedBuffers()].map(([k, t]) => [`${path}.${k}`, t]))));
  let batches = 0;
  let images = 0;
  try {
    noGrad(() => {
      for (const [, bn] of layers) {
        bn.runningMean!.zero_();
        bn.runningVar!.fill_(1);
        bn.namedBuffers().get('num_batches_tracked')?.zero_();
        bn.momentum = null;
        // A frozen layer normally keeps its statistics; here recomputing them is the point.
        bn.evalWhenFrozen = false;
      }
    });
    model.eval();
    for (const [, bn] of layers) bn.training = true;
    target.setEpoch(0);
    await forEachBatch(target, (batch) => {
      try {
        const n = batch.x.size(0);
        if (n < 2) return;
        noGrad(() =>
          tidy(() => {
            const x = plan.channelsLast && batch.x.ndim === 4 ? batch.x.contiguous('channelsLast') : batch.x;
            withPlan(plan, () => model.forward(x));
          }),
        );
        batches += 1;
        images += n;
      } finally {
        batch.x.dispose();
        batch.y.dispose();
      }
    });
    if (batches === 0) throw new TlcvError('DATA', 'adabn: the target data gave no batch of two or more images, so there are no statistics to compute');
  } catch (e) {
    model.loadStateDict(before, { strict: false });
    throw e;
  } finally {
    disposeState(before);
    for (const s of saved) {
      s.bn.momentum = s.momentum;
      s.bn.evalWhenFrozen = s.evalWhenFrozen;
    }
    model.eval();
  }
  return { layers: layers.length, batches, images };
}
