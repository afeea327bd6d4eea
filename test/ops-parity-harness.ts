/**
 * Table-driven parity with PyTorch. Each case names its inputs (made here from a seeded
 * PRNG), runs in tlcv, and has a Python twin of the same name in a peer case table
 * (test/peer/ops_cases_*.py). One peer run computes every case of a table. For cases with
 * `grad`, both sides backpropagate sum(output * w) with the same random w per float output,
 * so gradients are compared too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromTypedArray, getNumThreads, isFloating, manualSeed, moveToOuter, tidy, type Tensor } from '../src/tensor/index.js';
import { runPeer, writePeerInput } from './helpers/peer.js';

export type Inputs = Record<string, Tensor>;

export interface ParityCase {
  name: string;
  inputs?: (g: Gen) => Inputs;
  run: (t: Inputs) => Tensor | Record<string, Tensor>;
  /** Inputs to differentiate (float tensors). */
  grad?: string[];
  /** Seeds the global generator (both sides) just before run: for random ops. */
  seed?: number;
  /** Extra JSON handed to the Python twin (nested data, options). */
  meta?: Record<string, unknown>;
  rtol?: number;
  atol?: number;
}

/** One result tensor as plain data, so nothing native outlives the run. */
export interface Flat {
  dtype: string;
  shape: number[];
  values: number[];
}

export interface CaseResult {
  ts: Record<string, Flat>;
  peer: Record<string, Flat>;
  peerError?: string;
}

/** mulberry32: small, fast and reproducible across runs and machines. */
export class Gen {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform floats in [lo, hi). */
  r(shape: number[], lo = -1, hi = 1, dtype: 'float32' | 'float64' = 'float32'): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i += 1) a[i] = lo + (hi - lo) * this.next();
    return fromTypedArray(a, shape);
  }
  /** Integers in [lo, hi). */
  ints(shape: number[], lo: number, hi: number, dtype: 'int64' | 'int32' | 'uint8' = 'int64'): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const pick = (): number => lo + Math.floor((hi - lo) * this.next());
    if (dtype === 'int64') return fromTypedArray(BigInt64Array.from({ length: n }, () => BigInt(pick())), shape);
    if (dtype === 'int32') return fromTypedArray(Int32Array.from({ length: n }, pick), shape);
    return fromTypedArray(Uint8Array.from({ length: n }, pick), shape);
  }
  bools(shape: number[], p = 0.5): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return fromTypedArray(Uint8Array.from({ length: n }, () => (this.next() < p ? 1 : 0)), shape, { dtype: 'bool' });
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const flat = (t: Tensor): Flat => ({ dtype: t.dtype, shape: t.shape, values: t.toFlatArray() });

function runOne(c: ParityCase, peerInputs: Record<string, Tensor>): { ts: Record<string, Flat>; weights: string[] } {
  return tidy(() => {
    const g = new Gen(hash(c.name));
    const inputs = c.inputs?.(g) ?? {};
    for (const [k, v] of Object.entries(inputs)) peerInputs[`${c.name}#${k}`] = moveToOuter(v.clone());
    for (const k of c.grad ?? []) inputs[k]!.requiresGrad_(true);
    if (c.seed !== undefined) manualSeed(c.seed);
    const result = c.run(inputs);
    const outputs = 'handle' in result ? { out: result as Tensor } : (result as Record<string, Tensor>);
    const ts: Record<string, Flat> = {};
    for (const [k, o] of Object.entries(outputs)) ts[`out/${k}`] = flat(o);
    const weights = Object.keys(outputs).filter((k) => isFloating(outputs[k]!.dtype) && outputs[k]!.requiresGrad);
    if ((c.grad ?? []).length > 0) {
      assert.ok(weights.length > 0, `${c.name}: no output requires grad`);
      let loss: Tensor | null = null;
      for (const k of weights) {
        const o = outputs[k]!;
        const w = g.r(o.shape, -1, 1, o.dtype === 'float64' ? 'float64' : 'float32');
        peerInputs[`${c.name}#w#${k}`] = moveToOuter(w);
        const term = o.mul(w).sum();
        loss = loss === null ? term : loss.add(term);
      }
      loss!.backward();
      for (const k of c.grad ?? []) {
        const gr = inputs[k]!.grad;
        assert.ok(gr !== null, `${c.name}: no gradient for ${k}`);
        ts[`grad/${k}`] = flat(gr);
      }
    }
    return { ts, weights };
  });
}

/**
 * Runs every case here, then the peer once with `module`'s Python twins. Returns results by
 * case name, plus the Python cases that have no TS case (the tables must stay in step).
 */
export function runParity(cases: ParityCase[], module: string): { results: Map<string, CaseResult>; pythonOnly: string[] } {
  const names = new Set<string>();
  for (const c of cases) {
    assert.ok(!names.has(c.name), `duplicate case ${c.name}`);
    names.add(c.name);
  }
  const ts = new Map<string, Record<string, Flat>>();
  const inDir = join(mkdtempSync(join(tmpdir(), 'tlcv-ops-')), 'in');
  tidy(() => {
    const peerInputs: Record<string, Tensor> = {};
    const specs: Record<string, unknown> = {};
    for (const c of cases) {
      const { ts: r, weights } = runOne(c, peerInputs);
      ts.set(c.name, r);
      const inputs = Object.keys(peerInputs)
        .filter((k) => k.startsWith(`${c.name}#`) && !k.startsWith(`${c.name}#w#`))
        .map((k) => k.slice(c.name.length + 1));
      specs[c.name] = { inputs, grad: c.grad ?? [], seed: c.seed ?? null, meta: c.meta ?? {}, weights };
    }
    writePeerInput(inDir, peerInputs, { threads: getNumThreads(), cases: specs });
  });
  const peer = runPeer('ops_parity.py', [inDir, module]);
  const results = new Map<string, CaseResult>();
  const dtypes = peer.meta.dtypes as Record<string, string>;
  const errors = peer.meta.errors as Record<string, string>;
  for (const c of cases) {
    const p: Record<string, Flat> = {};
    for (const [key, t] of peer.tensors) {
      if (key.startsWith(`${c.name}#`)) {
        const k = key.slice(c.name.length + 1);
        p[k] = { ...flat(t), dtype: dtypes[key] ?? t.dtype };
      }
    }
    results.set(c.name, { ts: ts.get(c.name)!, peer: p, peerError: errors[c.name] });
  }
  for (const t of peer.tensors.values()) t.dispose();
  return { results, pythonOnly: peer.meta.pythonOnly as string[] };
}

const INTEGER_DTYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

/** Same keys, dtypes and shapes; integers exactly equal, floats within rtol/atol. */
export function assertParity(c: ParityCase, r: CaseResult): void {
  assert.equal(r.peerError, undefined, `${c.name}: the peer failed: ${r.peerError}`);
  assert.deepEqual(Object.keys(r.ts).sort(), Object.keys(r.peer).sort(), `${c.name}: outputs and gradients`);
  const rtol = c.rtol ?? 1e-5;
  const atol = c.atol ?? 1e-6;
  for (const [k, a] of Object.entries(r.ts)) {
    const e = r.peer[k]!;
    const what = `${c.name} ${k}`;
    assert.equal(a.dtype, e.dtype, `${what}: dtype`);
    assert.deepEqual(a.shape, e.shape, `${what}: shape`);
    if (INTEGER_DTYPES.has(a.dtype)) {
      const i = a.values.findIndex((v, j) => v !== e.values[j]);
      assert.ok(i < 0, `${what}: element ${i} is ${a.values[i]}, expected ${e.values[i]} (exact)`);
      continue;
    }
    let worst = -1;
    let worstErr = 0;
    for (let i = 0; i < a.values.length; i += 1) {
      const x = a.values[i]!;
      const y = e.values[i]!;
      const err = Object.is(x, y) ? 0 : Math.abs(x - y) - (atol + rtol * Math.abs(y));
      if (!(err <= 0) && (worst < 0 || !(err <= worstErr))) {
        worst = i;
        worstErr = err;
      }
    }
    assert.ok(worst < 0, `${what}: element ${worst} is ${a.values[worst]}, expected ${e.values[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

