/**
 * Cosine k-nearest neighbours over stored support features: the head TF.js's KNN classifier
 * gave Teachable Machine. The support set is the head's state (buffers), so it saves with the
 * model's weights and travels with the model folder.
 */
import { TlcvError, argumentError } from '../../errors.js';
import { Module } from '../../nn/index.js';
import { withoutAutocast } from '../../nn/float32-linear.js';
import { fromTypedArray, invoke, ones, tensor, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { centerAndNormalize, countClasses } from './ncm.js';

/**
 * Added to each class's score before the log, so softmax of the logits gives the vote shares
 * (a class without votes gets a small non-zero probability instead of log(0)).
 */
const SMOOTHING = 1e-3;

function checkK(k: number, supportImages: number): void {
  if (!Number.isInteger(k) || k < 1 || k > supportImages) throw argumentError('k', `an integer in [1, ${supportImages}] (the number of support images)`, k);
}

/**
 * Majority vote of the k support features most similar (cosine, after centring) to each
 * input; ties between classes go to the one whose voters are more similar in total. Logits
 * are log(votes + similarity tie-break + 1e-3), so softmax gives the (smoothed) vote shares.
 *
 * State (torchvision-style buffer names under the classifier's path): `center` [D],
 * `support` [M, D] (centred, unit length), `support_labels` [M] int64, `k` and `num_classes`
 * (int64 scalars).
 *
 * @example
 * const head = KnnHead.fit(support.features, support.labels, classes.length, { k: 5 });
 * installHeadModule(model, head, classes.length);
 */
export class KnnHead extends Module {
  readonly k: number;
  readonly numClasses: number;

  /** Takes ownership of the tensors; `support` must already be centred and unit length. */
  constructor(state: { center: Tensor; support: Tensor; supportLabels: Tensor; k: number; numClasses: number }) {
    super();
    checkK(state.k, state.support.size(0));
    this.k = state.k;
    this.numClasses = state.numClasses;
    this.registerBuffer('center', state.center);
    this.registerBuffer('support', state.support);
    this.registerBuffer('support_labels', state.supportLabels);
    this.registerBuffer('k', tensor(state.k, { dtype: 'int64' }));
    this.registerBuffer('num_classes', tensor(state.numClasses, { dtype: 'int64' }));
  }

  /**
   * Stores support features [M, D] with their labels.
   * `center` defaults to the support mean (pass the source domain's mean to centre as SimpleShot does).
   */
  static fit(features: Tensor, labels: Int32Array, numClasses: number, o: { k?: number; center?: Tensor } = {}): KnnHead {
    if (features.ndim !== 2) throw new TlcvError('ARGUMENT', `Expected support features [N, D] but received shape [${features.shape.join(', ')}]`);
    countClasses(labels, numClasses, features.size(0), 'knn');
    const k = o.k ?? 5;
    checkK(k, features.size(0));
    const state = tidy(() => {
      const x = features.float();
      const center = o.center === undefined ? x.mean(0) : o.center.float().clone();
      return { center, support: centerAndNormalize(x, center).contiguous(), supportLabels: fromTypedArray(labels, [labels.length]).long() };
    });
    return new KnnHead({ ...state, k, numClasses });
  }

  /** Rebuilds a head from its state dict entries (keys without the classifier's path prefix). */
  static fromState(state: Map<string, Tensor>): KnnHead {
    const get = (name: string): Tensor => {
      const t = state.get(name);
      if (t === undefined) throw new TlcvError('WEIGHTS', `knn head state has no "${name}" (it holds ${[...state.keys()].join(', ') || 'nothing'})`);
      return t;
    };
    const copies = tidy(() => ({
      center: get('center').float().clone(),
      support: get('support').float().contiguous().clone(),
      supportLabels: get('support_labels').long().clone(),
    }));
    return new KnnHead({ ...copies, k: get('k').item(), numClasses: get('num_classes').item() });
  }

  forward(x: Tensor): Tensor {
    const support = this.buffer('support');
    const labels = this.buffer('support_labels');
    // In float32 even under a bf16 plan: bf16 similarities would reorder close neighbours.
    return withoutAutocast(x, () => tidy(() => {
      const z = centerAndNormalize(x.float(), this.buffer('center'));
      const similarity = z.matmul(support.transpose(0, 1));
      const [values, indices] = invoke('topk', [similarity, this.k, 1, true, true]) as [Tensor, Tensor];
      const voters = labels.index([indices]);
      const n = x.size(0);
      const votes = invoke('scatter_add', [zeros([n, this.numClasses], { device: x.device }), 1, voters, ones([n, this.k], { device: x.device })]) as Tensor;
      // Similarities are in [-1, 1], so the k of them divided by 2k + 1 stay below half a vote.
      const tieBreak = (invoke('scatter_add', [zeros([n, this.numClasses], { device: x.device }), 1, voters, values]) as Tensor).div(2 * this.k + 1);
      return votes.add(tieBreak).add(SMOOTHING).log();
    }));
  }
}
