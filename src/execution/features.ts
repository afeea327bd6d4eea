/**
 * Pooled backbone features: what a model's classifier layer takes as input ([N, D]), the
 * space the training-free heads and DANN's domain classifier work in. timm calls this
 * `forward_head(pre_logits=True)`; torchvision users get it with a forward hook on `fc`.
 * Here it is a hook too, on the forward recipe every pass shares, so features come out of
 * exactly the forward that training, evaluation and prediction run.
 */
import { TlcvError } from '../errors.js';
import { keep, type Tensor } from '../tensor/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import { planForward } from './forward.js';
import type { ExecutionPlan } from './precision.js';

/** The classifier's input seen during forwards, until released. */
export interface ClassifierInputObserver {
  /**
   * The input of the classifier's latest call, under the caller's tensor scope (in the graph
   * when gradients are on); null when the classifier has not run since the last take.
   */
  take(): Tensor | null;
  /** Puts the classifier's own forward back and frees what was not taken. */
  release(): void;
}

/**
 * Observes the classifier layer (`model.config.classifier`) as a PyTorch forward hook would:
 * every zoo model's head (pooling, flatten, dropout, then that layer) is covered without
 * knowing its shape, whether the model runs whole or stage by stage.
 *
 * @example
 * const seen = observeClassifierInput(model);
 * try { logits = planForward(model, x, plan); features = seen.take(); } finally { seen.release(); }
 */
export function observeClassifierInput(model: ClassifierModel): ClassifierInputObserver {
  const head = model.getSubmodule(model.config.classifier);
  const own = Object.getOwnPropertyDescriptor(head, 'forward');
  const forward = head.forward.bind(head);
  let seen: Tensor | null = null;
  head.forward = (f: Tensor): Tensor => {
    seen?.dispose();
    // A second handle on the same storage and graph node: containers free their own handle
    // on the input once the layer has run, and the forward's scope frees everything else.
    seen = keep(f.view(f.shape));
    return forward(f);
  };
  return {
    take(): Tensor | null {
      const captured = seen as Tensor | null;
      if (captured === null) return null;
      seen = null;
      // Back under the caller's scope, like any other result.
      const out = captured.view(captured.shape);
      captured.dispose();
      return out;
    },
    release(): void {
      if (own) Object.defineProperty(head, 'forward', own);
      else delete (head as { forward?: unknown }).forward;
      (seen as Tensor | null)?.dispose();
      seen = null;
    },
  };
}

function features(model: ClassifierModel, seen: ClassifierInputObserver): Tensor {
  const f = seen.take();
  if (f === null) throw new TlcvError('MODEL', `${model.config.name}: its forward never called the classifier layer "${model.config.classifier}"`);
  return f;
}

/**
 * One forward that returns the logits and the classifier layer's input. With gradients on,
 * the features stay in the graph, so a loss on them (DANN's domain loss) trains the backbone.
 *
 * @example
 * const { features, logits } = forwardWithFeatures(model, x); // features [N, 512] for resnet18
 */
export function forwardWithFeatures(model: ClassifierModel, x: Tensor): { features: Tensor; logits: Tensor } {
  const seen = observeClassifierInput(model);
  try {
    const logits = model.forward(x);
    return { features: features(model, seen), logits };
  } finally {
    seen.release();
  }
}

/**
 * {@link planForward} with the classifier's input as well: the input in the plan's layout, the
 * plan's autocast, float32 logits (features keep the dtype the plan computed them in).
 *
 * @example
 * const { features, logits } = tidy(() => planForwardWithFeatures(model, x, plan));
 */
export function planForwardWithFeatures(model: ClassifierModel, x: Tensor, plan: ExecutionPlan, range: { from?: number; stages?: Stage[] } = {}): { features: Tensor; logits: Tensor } {
  const seen = observeClassifierInput(model);
  try {
    const logits = planForward(model, x, plan, range);
    return { features: features(model, seen), logits };
  } finally {
    seen.release();
  }
}
