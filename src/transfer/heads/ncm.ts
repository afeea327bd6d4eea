/**
 * Nearest class mean, as SimpleShot (Wang et al., 2019) does it: centre the features on a
 * mean (the source domain's, or the support set's when there is no source data), scale them
 * to unit length, average each class, and give an image the class whose mean is nearest.
 *
 * One change makes the rule an ordinary Linear head: the class means are scaled to unit
 * length too. For a unit feature z, ||z - m̂||² = 2 - 2 z·m̂, so the nearest unit mean is
 * the largest z·m̂ = (x - μ)·m̂ / ||x - μ||, and dropping the positive factor 1 / ||x - μ||
 * leaves logits W x + b with W = s m̂ and b = -s m̂·μ. SimpleShot's means keep their length,
 * and ||m||² then enters the distance scaled by ||x - μ||, which no Linear layer can express.
 */
import { TlcvError, argumentError } from '../../errors.js';
import { fromTypedArray, invoke, keep, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { l2Normalize } from './features.js';

export interface NcmOptions {
  /** The feature mean to centre on, [D]: the source domain's (see featureMean). Default: the support set's. */
  center?: Tensor;
  /**
   * Logit scale: logits are this times the cosine to each class mean for a support image of
   * average distance from the centre. Argmax does not depend on it; probabilities do.
   */
  temperature?: number;
}

export interface NcmHead {
  /** The Linear head's weight, `[C, D]`. */
  weight: Tensor;
  /** The Linear head's bias, `[C]`. */
  bias: Tensor;
  /** The centre the features were shifted by, `[D]`. */
  center: Tensor;
  /** Each class's mean of centred, unit-length support features (before its own scaling to unit length), `[C, D]`. */
  classMeans: Tensor;
  /** The factor s in W = s m̂. */
  scale: number;
}

/** Checks labels against the class count and the features' rows; returns the count of each class. */
export function countClasses(labels: Int32Array, numClasses: number, rows: number, what: string): number[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw argumentError('numClasses', 'a positive integer', numClasses);
  if (labels.length !== rows) throw new TlcvError('ARGUMENT', `${what}: ${rows} feature rows but ${labels.length} labels`);
  const counts = new Array<number>(numClasses).fill(0);
  for (const y of labels) {
    if (!(y >= 0 && y < numClasses)) throw new TlcvError('DATA', `${what}: label ${y} is outside [0, ${numClasses})`);
    counts[y]! += 1;
  }
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) throw new TlcvError('DATA', `${what}: class ${empty} has no support images (every class needs at least one)`);
  return counts;
}

/** Per-class means of the rows of x ([N, D]) by label: [C, D]. */
export function meansByClass(x: Tensor, labels: Int32Array, counts: number[]): Tensor {
  return tidy(() => {
    const index = fromTypedArray(labels, [labels.length]).long();
    const sums = invoke('index_add', [zeros([counts.length, x.size(1)], { dtype: x.dtype }), 0, index, x]) as Tensor;
    return sums.div(fromTypedArray(Float64Array.from(counts), [counts.length, 1]).to(x.dtype));
  });
}

/** Centres on `center` and scales each row to unit length. */
export function centerAndNormalize(x: Tensor, center: Tensor): Tensor {
  return tidy(() => l2Normalize(x.sub(center)));
}

/**
 * Fits the nearest-class-mean head on support features [N, D] with labels; returns tensors the
 * caller owns (see disposeAll). Install it with installLinearHead(model, head.weight, head.bias).
 *
 * @example
 * const support = extractFeatures(model, supportLoader, plan);
 * const head = fitNcm(support.features, support.labels, classes.length, { center: featureMean(model, sourceLoader, plan) });
 * installLinearHead(model, head.weight, head.bias);
 */
export function fitNcm(features: Tensor, labels: Int32Array, numClasses: number, o: NcmOptions = {}): NcmHead {
  if (features.ndim !== 2) throw new TlcvError('ARGUMENT', `Expected support features [N, D] but received shape [${features.shape.join(', ')}]`);
  const counts = countClasses(labels, numClasses, features.size(0), 'ncm');
  const temperature = o.temperature ?? 10;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw argumentError('temperature', 'a positive number', temperature);
  if (o.center !== undefined && (o.center.ndim !== 1 || o.center.size(0) !== features.size(1))) {
    throw new TlcvError('ARGUMENT', `Expected a centre of ${features.size(1)} features (the support features' width) but received shape [${o.center.shape.join(', ')}]`);
  }
  const head = tidy(() => {
    const x = features.to('float64');
    const center = o.center === undefined ? x.mean(0) : o.center.to('float64');
    const centred = x.sub(center);
    const means = meansByClass(l2Normalize(centred), labels, counts);
    const unitMeans = l2Normalize(means);
    const averageNorm = centred.pow(2).sum(1).sqrt().mean().item();
    // Support images all at the centre leave no direction to compare: nothing can be learnt.
    if (!(averageNorm > 0)) throw new TlcvError('DATA', 'ncm: every support feature equals the centre, so no class differs from another');
    const scale = temperature / averageNorm;
    const weight = unitMeans.mul(scale);
    const bias = weight.matmul(center).neg();
    return { weight: weight.float(), bias: bias.float(), center: center.float(), classMeans: means.float(), scale };
  });
  for (const t of [head.weight, head.bias, head.center, head.classMeans]) keep(t);
  return head;
}

/**
 * The distance rule itself, for checking the Linear head: for each row of features, the class
 * whose unit-length mean is nearest (Euclidean) to the centred unit-length feature.
 */
export function ncmNearest(features: Tensor, head: Pick<NcmHead, 'center' | 'classMeans'>): Int32Array {
  return tidy(() => {
    const z = centerAndNormalize(features.to('float64'), head.center.to('float64'));
    const m = l2Normalize(head.classMeans.to('float64'));
    const distances = z.unsqueeze(1).sub(m.unsqueeze(0)).pow(2).sum(2);
    return Int32Array.from(distances.argmin(1).toFlatArray());
  });
}
