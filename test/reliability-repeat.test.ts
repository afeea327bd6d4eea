// Repeatability on CPU: the same seed, data and flags give an identical metrics.jsonl (and
// identical weights), for pretrain with augmentation and for a fine-tuning transfer (whose new
// head is seeded too); another seed gives another run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tlcv-repeat-'));
after(() => rmSync(root, { recursive: true, force: true }));

function run(name: string, args: string[]): { metrics: string; weights: Buffer } {
  const out = join(root, name);
  const r = runCli([...args, '--quiet', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  assert.equal(metrics.trim().split('\n').length, 2);
  return { metrics, weights: readFileSync(join(out, 'model.safetensors')) };
}

const pretrain = ['pretrain', '--data', 'mnist:train@k=5', '--epochs', '2', '--batch-size', '16', '--augment', 'light'];

test('pretrain: same seed and flags give the same metrics.jsonl and weights; another seed does not', () => {
  const a = run('pre-a', [...pretrain, '--seed', '3']);
  const b = run('pre-b', [...pretrain, '--seed', '3']);
  const c = run('pre-c', [...pretrain, '--seed', '4']);
  assert.equal(b.metrics, a.metrics);
  assert.ok(b.weights.equals(a.weights), 'same weights');
  assert.notEqual(c.metrics, a.metrics);
  assert.ok(!c.weights.equals(a.weights));
});

test('transfer fine-tune: same seed gives the same metrics.jsonl and weights; another seed does not', () => {
  const source = join(root, 'pre-a');
  const transfer = ['transfer', '--model', source, '--data', 'mnist:test@k=5,classes=0+1+2', '--mode', 'fine-tune', '--epochs', '2', '--batch-size', '8'];
  const a = run('ft-a', [...transfer, '--seed', '1']);
  const b = run('ft-b', [...transfer, '--seed', '1']);
  const c = run('ft-c', [...transfer, '--seed', '2']);
  assert.equal(b.metrics, a.metrics);
  assert.ok(b.weights.equals(a.weights), 'same weights');
  assert.notEqual(c.metrics, a.metrics);
});
