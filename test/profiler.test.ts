// The op-level profiler: a forward, backward and fused optimizer step show up as their ops and
// autograd nodes with counts, self times add up within the wall time, and a profile holds only
// what ran while it was on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../src/optim/index.js';
import { F, manualSeed, profileOps, randn, tidy } from '../src/tensor/index.js';

test('a training step splits into its ops, autograd nodes and the fused optimizer step', () => {
  manualSeed(1);
  const w = randn([8, 3, 3, 3]).keep().requiresGrad_(true);
  const x = randn([4, 3, 16, 16]).keep();
  const opt = new AdamW([w], { lr: 1e-3 });
  const step = (): void =>
    tidy(() => {
      F.relu(F.conv2d(x, w, null, { padding: 1 })).sum().backward();
      opt.step();
      opt.zeroGrad();
    });
  step();
  const p = profileOps(() => {
    step();
    step();
  });
  const row = (name: string) => p.rows.find((r) => r.name === name);
  assert.equal(row('aten::conv2d')?.calls, 2);
  assert.equal(row('tlcv::fused_adam_step')?.calls, 2);
  assert.ok(p.rows.some((r) => /ConvolutionBackward/.test(r.name)), p.rows.map((r) => r.name).join(', '));
  const self = p.rows.reduce((s, r) => s + r.selfMs, 0);
  assert.ok(p.opsMs > 0 && p.opsMs <= p.wallMs, `ops ${p.opsMs} ms within wall ${p.wallMs} ms`);
  assert.ok(Math.abs(self - p.opsMs) <= 0.05 * p.opsMs + 0.05, `self times ${self} ms add up to the outermost ops' ${p.opsMs} ms`);
  for (const r of p.rows) assert.ok(r.selfMs <= r.totalMs + 1e-9 && r.calls > 0, r.name);
  const after = profileOps(() => tidy(() => void x.add(x)));
  assert.deepEqual(after.rows.map((r) => r.name), ['aten::add'], 'nothing from before the profile started');
  assert.throws(() => profileOps(() => profileOps(() => {})), /already running/);
  opt.dispose();
  w.dispose();
  x.dispose();
});
