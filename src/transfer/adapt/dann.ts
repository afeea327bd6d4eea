/**
 * DANN (Ganin & Lempitsky, 2015), in the form of thuml's Transfer-Learning-Library (TLlib):
 * a domain classifier on the pooled features learns to tell source from target images,
 * while a gradient-reversal layer in front of it pushes the backbone towards features it
 * cannot tell apart. Its strength ramps up with training progress p:
 * λ = 2 / (1 + exp(-10 p)) - 1. Source and target batches go through the model as one
 * batch (BatchNorm sees both domains), and target labels are never taken.
 */
import { TlcvError, argumentError } from '../../errors.js';
import { Linear, ReLU, Dropout, Sequential, type Module } from '../../nn/index.js';
import { BatchNorm1d } from '../../nn/batchnorm1d.js';
import { gradientReversal } from '../../nn/gradient-reversal.js';
import { F, cat, invoke, ones, tidy, zeros, type Tensor } from '../../tensor/index.js';
import type { ClassifierModel } from '../../models/index.js';
import { forwardWithFeatures, planForwardWithFeatures, withPlan, type ExecutionPlan } from '../../execution/index.js';

/**
 * TLlib's warm-start schedule for the reversal coefficient: 0 at the start of training, rising
 * to `high` (default 1) as progress goes to 1; `alpha` (default 10) sets how fast.
 *
 * @example
 * dannLambda(0); // 0
 * dannLambda(0.5); // 0.9866
 */
export function dannLambda(progress: number, o: { alpha?: number; low?: number; high?: number } = {}): number {
  if (!Number.isFinite(progress)) throw argumentError('progress', 'a number in [0, 1]', progress);
  const p = Math.min(1, Math.max(0, progress));
  const alpha = o.alpha ?? 10;
  const low = o.low ?? 0;
  const high = o.high ?? 1;
  return (2 * (high - low)) / (1 + Math.exp(-alpha * p)) - (high - low) + low;
}

export interface DomainDiscriminatorOptions {
  /** Width of the two hidden layers (TLlib's examples use 1024). */
  hidden?: number;
  /** BatchNorm after each hidden layer (TLlib's default); otherwise dropout 0.5. */
  batchNorm?: boolean;
}

/**
 * TLlib's DomainDiscriminator: Linear, BatchNorm1d, ReLU, Linear, BatchNorm1d, ReLU, Linear(1)
 * (children '0' to '6'). It returns the logit of "source"; TLlib's final Sigmoid is folded into
 * the loss (binary cross-entropy with logits: the same loss, without overflow).
 *
 * @example
 * const d = new DomainDiscriminator(512);
 */
export class DomainDiscriminator extends Sequential {
  constructor(inFeatures: number, o: DomainDiscriminatorOptions = {}) {
    const hidden = o.hidden ?? 1024;
    if (!Number.isInteger(hidden) || hidden < 1) throw argumentError('hidden', 'a positive integer', hidden);
    const block = (i: number): Module[] => ((o.batchNorm ?? true) ? [new Linear(i, hidden), new BatchNorm1d(hidden), new ReLU()] : [new Linear(i, hidden), new ReLU(), new Dropout(0.5)]);
    super([...block(inFeatures), ...block(hidden), new Linear(hidden, 1)]);
  }
}

/** The loss and how often the discriminator was right (TLlib's domain_discriminator_accuracy). */
export interface DomainLoss {
  loss: Tensor;
  accuracy: number;
}

/**
 * TLlib's DomainAdversarialLoss: the discriminator sees the reversed features of both domains;
 * the loss is the mean of the binary cross-entropies of source (label 1) and target (label 0).
 */
export function domainAdversarialLoss(discriminator: Module, sourceFeatures: Tensor, targetFeatures: Tensor, coeff: number): DomainLoss {
  const ns = sourceFeatures.size(0);
  const nt = targetFeatures.size(0);
  return tidy(() => {
    const logits = discriminator.forward(gradientReversal(cat([sourceFeatures, targetFeatures]), coeff)).float().reshape([-1]);
    const ds = logits.narrow(0, 0, ns);
    const dt = logits.narrow(0, ns, nt);
    const bce = (d: Tensor, label: Tensor): Tensor => invoke('binary_cross_entropy_with_logits', [d, label, null, null, 1]) as Tensor;
    const loss = bce(ds, ones([ns], { device: ds.device })).add(bce(dt, zeros([nt], { device: dt.device }))).mul(0.5);
    const accuracy = 0.5 * (ds.ge(0).float().mean().item() + dt.lt(0).float().mean().item());
    return { loss, accuracy };
  });
}

export interface DannOptions extends DomainDiscriminatorOptions {
  /** Weight of the domain loss in the total (TLlib's trade_off). */
  tradeoff?: number;
  /** The schedule's speed (see dannLambda). */
  alpha?: number;
  labelSmoothing?: number;
}

export interface DannLoss {
  /** classLoss + tradeoff * domainLoss: call backward on this one. */
  loss: Tensor;
  classLoss: number;
  domainLoss: number;
  domainAccuracy: number;
  lambda: number;
}

/**
 * The DANN objective for a model: owns the domain discriminator (give its parameters to the
 * optimizer too) and computes the combined loss of a labelled source batch and an unlabelled
 * target batch.
 *
 * @example
 * const dann = DannObjective.forModel(model);
 * const opt = new SGD([...model.parameters({ trainableOnly: true }), ...dann.parameters()], { lr: 0.01, momentum: 0.9 });
 * const { loss } = dann.loss(model, { x: xs, y: ys }, xt, step / totalSteps, plan);
 * loss.backward();
 */
export class DannObjective {
  readonly discriminator: DomainDiscriminator;
  readonly tradeoff: number;
  readonly alpha: number;
  readonly labelSmoothing: number;

  constructor(featureDim: number, o: DannOptions = {}) {
    this.discriminator = new DomainDiscriminator(featureDim, o);
    this.tradeoff = o.tradeoff ?? 1;
    this.alpha = o.alpha ?? 10;
    this.labelSmoothing = o.labelSmoothing ?? 0;
    if (!(this.tradeoff >= 0 && Number.isFinite(this.tradeoff))) throw argumentError('tradeoff', 'a non-negative number', this.tradeoff);
  }

  /** A discriminator as wide as the model's pooled features. */
  static forModel(model: ClassifierModel, o: DannOptions = {}): DannObjective {
    const head = model.getSubmodule(model.config.classifier);
    if (!(head instanceof Linear)) throw new TlcvError('MODEL', `dann: ${model.config.name}'s classifier "${model.config.classifier}" is not a Linear layer, so its feature width is unknown`);
    return new DannObjective(head.inFeatures, o);
  }

  parameters(): Tensor[] {
    return this.discriminator.parameters();
  }

  /** The reversal coefficient at training progress p in [0, 1]. */
  lambda(progress: number): number {
    return dannLambda(progress, { alpha: this.alpha });
  }

  /** The domain term alone, for features a caller already has (a Learner callback adding it to its loss). */
  domainLoss(sourceFeatures: Tensor, targetFeatures: Tensor, progress: number): DomainLoss {
    return domainAdversarialLoss(this.discriminator, sourceFeatures, targetFeatures, this.lambda(progress));
  }

  /**
   * One forward of source and target images together; cross-entropy on the source logits plus
   * tradeoff times the domain loss. The target batch is images only: no labels are taken.
   */
  loss(model: ClassifierModel, source: { x: Tensor; y: Tensor }, targetX: Tensor, progress: number, plan?: ExecutionPlan): DannLoss {
    const ns = source.x.size(0);
    const nt = targetX.size(0);
    if (ns === 0 || nt === 0) throw new TlcvError('ARGUMENT', `dann needs images from both domains in each step (received ${ns} source and ${nt} target)`);
    const lambda = this.lambda(progress);
    const run = <T>(fn: () => T): T => (plan ? withPlan(plan, fn) : fn());
    return tidy(() => {
      const x = cat([source.x, targetX]);
      const { features, logits } = plan ? planForwardWithFeatures(model, x, plan) : forwardWithFeatures(model, x);
      const classLoss = F.crossEntropy(logits.narrow(0, 0, ns).float(), source.y, { labelSmoothing: this.labelSmoothing });
      const domain = run(() => domainAdversarialLoss(this.discriminator, features.narrow(0, 0, ns), features.narrow(0, ns, nt), lambda));
      return {
        loss: classLoss.add(domain.loss.mul(this.tradeoff)),
        classLoss: classLoss.item(),
        domainLoss: domain.loss.item(),
        domainAccuracy: domain.accuracy,
        lambda,
      };
    });
  }

  dispose(): void {
    this.discriminator.dispose();
  }
}
