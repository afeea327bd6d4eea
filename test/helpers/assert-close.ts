/** Element-wise closeness, reporting the worst element so failures say where parity broke. */
import assert from 'node:assert/strict';
import { tidy, type Tensor } from '../../src/tensor/index.js';

export function assertClose(actual: Tensor, expected: Tensor, opts: { rtol?: number; atol?: number; what?: string } = {}): void {
  const what = opts.what ?? 'tensor';
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFlatArray();
  const e = expected.toFlatArray();
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < a.length; i += 1) {
    const err = Math.abs(a[i]! - e[i]!) - (atol + rtol * Math.abs(e[i]!));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  assert.ok(worst < 0, `${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})`);
}

/**
 * assertClose decided with tensor ops (a large model's weights would take long as JS arrays);
 * the element-wise report only when it fails.
 */
export function assertCloseFast(actual: Tensor, expected: Tensor, opts: { rtol?: number; atol?: number; what?: string } = {}): void {
  assert.deepEqual(actual.shape, expected.shape, `${opts.what ?? 'tensor'}: shape`);
  const [rtol, atol] = [opts.rtol ?? 1e-5, opts.atol ?? 1e-6];
  const excess = tidy(() => actual.sub(expected).abs().sub(expected.abs().mul(rtol).add(atol)).max().item());
  if (!(excess <= 0)) assertClose(actual, expected, opts);
}

/**
 * Weights compared relative to each tensor's scale (its largest magnitude), as a weight near zero carries the
 * float32 rounding of the larger ones: max |a - b| / max |b| per tensor, the worst over tensors.
 */
export function maxRelative(a: Record<string, number[]>, b: Record<string, number[]>): { worst: number; where: string } {
  let worst = 0;
  let where = '';
  for (const [name, ref] of Object.entries(b)) {
    const got = a[name]!;
    assert.equal(got.length, ref.length, `${name}: size`);
    const scale = Math.max(...ref.map(Math.abs));
    ref.forEach((r, i) => {
      const rel = Math.abs(got[i]! - r) / scale;
      if (rel > worst) [worst, where] = [rel, `${name}[${i}]: ${got[i]} vs ${r} (largest |weight| ${scale.toPrecision(3)})`];
    });
  }
  return { worst, where };
}
