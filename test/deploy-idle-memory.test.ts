// The idle-release policy of tlcv serve alone (the soak test checks the memory itself): memory
// goes back once after a quiet spell, never while a request is in the server, and not at all
// when turned off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleMemoryRelease } from '../src/deploy/index.js';
import { pollUntil } from './helpers/cli-async.js';

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('one release per idle spell, after the last request ends, and none while one is in flight', async () => {
  let released = 0;
  const idle = new IdleMemoryRelease(30, () => (released += 1));
  idle.begin();
  idle.begin();
  idle.end();
  await settle(120);
  assert.equal(released, 0, 'a request is still in the server');
  idle.end();
  assert.equal(released, 0, 'not at once');
  await pollUntil(() => (released === 1 ? true : undefined), { what: 'the release', timeoutMs: 10_000 });
  await settle(120);
  assert.equal(released, 1, 'once per idle spell');
  assert.equal(idle.releases, 1);
  // A request that comes before the quiet spell is over puts the release off.
  idle.begin();
  idle.end();
  idle.begin();
  await settle(120);
  assert.equal(released, 1);
  idle.end();
  await pollUntil(() => (released === 2 ? true : undefined), { what: 'the second release', timeoutMs: 10_000 });
  idle.dispose();
});

test('0 turns releasing off, and dispose cancels a pending release', async () => {
  let released = 0;
  const off = new IdleMemoryRelease(0, () => (released += 1));
  off.begin();
  off.end();
  const pending = new IdleMemoryRelease(30, () => (released += 1));
  pending.begin();
  pending.end();
  pending.dispose();
  await settle(150);
  assert.equal(released, 0);
});
