/**
 * Target-domain construction (the spec's section 3.1.2): K-per-class subsets, fraction splits,
 * resampling with replacement, class subsets, and the rest of a subset. Every choice is drawn
 * from the JS Rng, so a seed names the same images on every machine and libtorch version.
 * Subsets keep dataset order (ascending index), except `resample`, which keeps draw order.
 */
import { TlcvError, argumentError } from '../errors.js';
import { classCounts, indicesByClass, takeIndices, type Dataset } from './dataset.js';
import { Rng } from '../sampling/rng.js';

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw argumentError('seed', 'a non-negative integer', seed);
}

const ascending = (a: number, b: number): number => a - b;

/**
 * Exactly k images of every class, chosen at random with the seed.
 *
 * @example
 * const few = stratifiedSubset(mnistTrain, 10, 1); // 100 images, 10 per digit
 */
export function stratifiedSubset<D extends Dataset>(ds: D, k: number, seed: number): D {
  if (!Number.isInteger(k) || k < 1) throw argumentError('k', 'a positive integer (images per class)', k);
  checkSeed(seed);
  const byClass = indicesByClass(ds);
  const short = byClass.map((idx, c) => ({ c, n: idx.length })).filter((x) => x.n < k);
  if (short.length > 0) {
    const list = short.map((x) => `${ds.classes[x.c]} (${x.n})`).join(', ');
    throw new TlcvError('DATA', `cannot take ${k} images per class from ${ds.name}: ${short.length === 1 ? 'class' : 'classes'} ${list} ${short.length === 1 ? 'has' : 'have'} fewer`);
  }
  const rng = new Rng(seed, 0x6b);
  const picked: number[] = [];
  for (const idx of byClass) picked.push(...Array.from(rng.shuffle(Int32Array.from(idx)).subarray(0, k)));
  return takeIndices(ds, picked.sort(ascending), `${ds.name}@k=${k},seed=${seed}`);
}

/** Splits counts in proportion frac, rounding so the parts sum to round(frac * total) (largest remainder). */
function apportion(counts: number[], frac: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const target = Math.round(frac * total);
  const exact = counts.map((c) => c * frac);
  const out = exact.map(Math.floor);
  let missing = target - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (missing <= 0) break;
    if (out[i]! < counts[i]!) {
      out[i]! += 1;
      missing -= 1;
    }
  }
  return out;
}

/**
 * Splits into [first, rest] with round(frac * n) images in first; stratified (default) keeps
 * each class's share in both parts.
 *
 * @example
 * const [train, test] = fractionSplit(all, 0.9, 0); // the spec's 90/10
 */
export function fractionSplit<D extends Dataset>(ds: D, frac: number, seed: number, o: { stratified?: boolean } = {}): [D, D] {
  if (!(frac > 0 && frac < 1)) throw argumentError('frac', 'a fraction strictly between 0 and 1', frac);
  checkSeed(seed);
  const rng = new Rng(seed, 0xf5);
  const first: number[] = [];
  const second: number[] = [];
  if (o.stratified ?? true) {
    const byClass = indicesByClass(ds);
    const take = apportion(byClass.map((x) => x.length), frac);
    byClass.forEach((idx, c) => {
      const p = rng.shuffle(Int32Array.from(idx));
      first.push(...p.subarray(0, take[c]));
      second.push(...p.subarray(take[c]));
    });
  } else {
    const p = rng.permutation(ds.n);
    const k = Math.round(frac * ds.n);
    first.push(...p.subarray(0, k));
    second.push(...p.subarray(k));
  }
  const tag = `frac=${frac},seed=${seed}`;
  return [takeIndices(ds, first.sort(ascending), `${ds.name}@${tag}`), takeIndices(ds, second.sort(ascending), `${ds.name}@${tag},rest`)];
}

/**
 * Stratified k-fold: [train, validation] for fold `index` of `k`, each class's images dealt in
 * turn (after a seeded shuffle) to the folds, so every image validates in exactly one fold and
 * each fold holds each class's share.
 *
 * @example
 * const [train, val] = stratifiedFold(all, 5, 0, 1); // the first of 5 folds
 */
export function stratifiedFold<D extends Dataset>(ds: D, k: number, index: number, seed: number): [D, D] {
  if (!Number.isInteger(k) || k < 2) throw argumentError('k', 'an integer of at least 2 (folds)', k);
  if (!Number.isInteger(index) || index < 0 || index >= k) throw argumentError('fold', `an integer in [0, ${k})`, index);
  checkSeed(seed);
  const rng = new Rng(seed, 0xf0);
  const train: number[] = [];
  const val: number[] = [];
  // One running position over the classes: a class smaller than k does not always land in fold 0.
  let at = 0;
  for (const idx of indicesByClass(ds)) {
    for (const i of rng.shuffle(Int32Array.from(idx))) (at++ % k === index ? val : train).push(i);
  }
  const tag = `fold=${index}/${k},seed=${seed}`;
  return [takeIndices(ds, train.sort(ascending), `${ds.name}@${tag},rest`), takeIndices(ds, val.sort(ascending), `${ds.name}@${tag}`)];
}

/**
 * n images drawn uniformly with replacement (numpy's `np.random.choice(N, n)`), in draw order.
 *
 * @example
 * const boot = resample(target, 1000, 3);
 */
export function resample<D extends Dataset>(ds: D, n: number, seed: number): D {
  if (!Number.isInteger(n) || n < 1) throw argumentError('n', 'a positive integer', n);
  checkSeed(seed);
  if (ds.n === 0) throw new TlcvError('DATA', `cannot resample from ${ds.name}: it is empty`);
  const rng = new Rng(seed, 0x3e);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i += 1) idx[i] = rng.int(ds.n);
  return takeIndices(ds, idx, `${ds.name}@n=${n},seed=${seed}`);
}

/** Resolves class indices or names (a number-like string is a name first, then an index). */
export function resolveClasses(ds: Pick<Dataset, 'classes' | 'name'>, classes: (number | string)[]): number[] {
  const out = classes.map((c) => {
    if (typeof c === 'string') {
      const byName = ds.classes.indexOf(c);
      if (byName >= 0) return byName;
      if (/^\d+$/.test(c) && Number(c) < ds.classes.length) return Number(c);
      throw new TlcvError('DATA_SPEC', `class "${c}" is not in ${ds.name}: its classes are ${ds.classes.slice(0, 20).join(', ')}${ds.classes.length > 20 ? ', ...' : ''}`);
    }
    if (!Number.isInteger(c) || c < 0 || c >= ds.classes.length) throw argumentError('class index', `an integer in [0, ${ds.classes.length})`, c);
    return c;
  });
  const dup = out.find((c, i) => out.indexOf(c) !== i);
  if (dup !== undefined) throw new TlcvError('DATA_SPEC', `class ${ds.classes[dup]} is listed twice`);
  return out;
}

/**
 * Only the listed classes. With remap (default) labels become 0..k-1 in the order listed and
 * `classes` shrinks to those names; without it labels and class names stay as they were.
 *
 * @example
 * const pretrain = selectClasses(mnist, [0, 1, 2, 3, 4]);          // digits 0-4, labels 0-4
 * const target = selectClasses(mnist, [5, 6, 7, 8, 9]);            // digits 5-9, labels 0-4
 */
export function selectClasses<D extends Dataset>(ds: D, classes: (number | string)[], o: { remap?: boolean } = {}): D {
  if (classes.length === 0) throw argumentError('classes', 'at least one class', classes);
  const wanted = resolveClasses(ds, classes);
  const position = new Map(wanted.map((c, i) => [c, i]));
  const idx: number[] = [];
  ds.labels.forEach((y, i) => {
    if (position.has(y)) idx.push(i);
  });
  const tag = `classes=${wanted.join('+')}`;
  const sub = takeIndices(ds, idx, `${ds.name}@${tag}`);
  if (!(o.remap ?? true)) return sub;
  const labels = sub.labels.map((y) => position.get(y)!);
  return { ...sub, labels, classes: wanted.map((c) => ds.classes[c]!) };
}

/**
 * The images of ds that a subset taken from it does not hold ("the remaining digits as test").
 *
 * @example
 * const train = stratifiedSubset(all, 10, 1);
 * const test = complement(all, train);
 */
export function complement<D extends Dataset>(ds: D, subset: Dataset): D {
  const parent = subset.parentIndices;
  if (parent === undefined) throw new TlcvError('ARGUMENT', `complement: ${subset.name} was not taken from ${ds.name} by a split function, so the rest is unknown`);
  const taken = new Uint8Array(ds.n);
  for (const i of parent) {
    if (i >= ds.n) throw new TlcvError('ARGUMENT', `complement: ${subset.name} was not taken from ${ds.name} (index ${i} is past its ${ds.n} images)`);
    taken[i] = 1;
  }
  const rest: number[] = [];
  for (let i = 0; i < ds.n; i += 1) if (taken[i] === 0) rest.push(i);
  return takeIndices(ds, rest, `${subset.name},rest`);
}

/** "0: 100, 1: 98, ..." for logs. */
export function describeCounts(ds: Dataset): string {
  return classCounts(ds).map((n, c) => `${ds.classes[c]}: ${n}`).join(', ');
}
