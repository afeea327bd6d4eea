// Setting a run up: torchrun's environment variables and launch options, read with messages
// that name the variable or flag; and the rendezvous errors a user can act on: a port in use,
// a master nobody answers at, a rank that never joins (short timeouts, one process); and a
// one-rank group's collectives and DDP's own checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlcvError } from '../src/errors.js';
import { DistributedDataParallel, freePort, initProcessGroup, readWorkerEnv, resolveLaunch, workerEnvironment } from '../src/distributed/index.js';
import { tensor } from '../src/tensor/index.js';
import { TINY_CONFIG, TinyNet } from './helpers/tiny-model.js';

const isUserError = (pattern: RegExp) => (e: unknown) => e instanceof TlcvError && pattern.test(e.message);

test("readWorkerEnv reads torchrun's variables and names the one that is wrong", () => {
  assert.equal(readWorkerEnv({}), null);
  assert.deepEqual(readWorkerEnv({ RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', GROUP_RANK: '1', MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29501', TLCV_DIST_TIMEOUT: '5' }), {
    rank: 3,
    localRank: 1,
    worldSize: 4,
    localWorldSize: 2,
    nodeRank: 1,
    masterAddr: '10.0.0.1',
    masterPort: 29501,
    timeoutMs: 5000,
    agentStore: false,
    restart: 0,
  });
  const underTorchrun = readWorkerEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1', TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2' });
  assert.deepEqual([underTorchrun?.agentStore, underTorchrun?.restart], [true, 2]);
  assert.throws(() => readWorkerEnv({ RANK: '0' }), isUserError(/RANK is set but WORLD_SIZE is not/));
  assert.throws(() => readWorkerEnv({ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), isUserError(/RANK: expected an integer in \[0, 1\], found "2"/));
  assert.throws(() => readWorkerEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '29500' }), isUserError(/MASTER_ADDR and MASTER_PORT must name/));
  assert.throws(() => readWorkerEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: 'http' }), isUserError(/MASTER_PORT: expected an integer in \[1, 65535\], found "http"/));
});

test("resolveLaunch: flags first, then torchrun's variables; several nodes need the master's address", () => {
  assert.deepEqual(resolveLaunch({ nproc: 2 }, {}), { nproc: 2, nnodes: 1, nodeRank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: null });
  assert.deepEqual(resolveLaunch({ nproc: 2, nodeRank: 1 }, { NNODES: '2', MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29400', NODE_RANK: '0' }), {
    nproc: 2,
    nnodes: 2,
    nodeRank: 1,
    worldSize: 4,
    masterAddr: '10.0.0.1',
    masterPort: 29400,
  });
  assert.throws(() => resolveLaunch({ nproc: 2, nnodes: 2, nodeRank: 1 }, {}), isUserError(/--nnodes 2 needs --master-addr/));
  assert.throws(() => resolveLaunch({ nproc: 2, nnodes: 2, nodeRank: 2, masterAddr: '10.0.0.1' }, {}), isUserError(/--node-rank: expected an integer in \[0, 1\], found 2/));
  assert.throws(() => resolveLaunch({ nproc: 0 }, {}), isUserError(/--nproc: expected an integer in \[1, /));
  const env = workerEnvironment(resolveLaunch({ nproc: 2, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29400 }, {}), 29400, 1, 3, 60_000);
  assert.deepEqual(env, {
    RANK: '3',
    LOCAL_RANK: '1',
    WORLD_SIZE: '4',
    LOCAL_WORLD_SIZE: '2',
    GROUP_RANK: '1',
    MASTER_ADDR: '10.0.0.1',
    MASTER_PORT: '29400',
    OMP_NUM_THREADS: '3',
    TLCV_THREADS: '3',
    TLCV_DIST_TIMEOUT: '60',
  });
});

test('a port in use: rank 0 fails at once with a message naming the port', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      initProcessGroup({ rank: 0, worldSize: 2, masterPort: port, timeoutMs: 2000 }),
      isUserError(new RegExp(`rank 0 could not listen on 127\\.0\\.0\\.1:${port} \\(MASTER_ADDR:MASTER_PORT\\): port ${port} is already in use`)),
    );
  } finally {
    server.close();
  }
});

test('a master that nobody answers at: the rank gives up after the timeout, naming address and port', async () => {
  const port = await freePort();
  const t0 = performance.now();
  // c10d retries a refused connection until the timeout, in whole-second steps: it may give up early, never late.
  await assert.rejects(
    initProcessGroup({ rank: 1, worldSize: 2, masterPort: port, timeoutMs: 1500 }),
    isUserError(new RegExp(`rank 1 could not reach the master at 127\\.0\\.0\\.1:${port} \\(MASTER_ADDR:MASTER_PORT\\) within 1\\.5`)),
  );
  const took = performance.now() - t0;
  assert.ok(took < 1500 + 3000, `gave up after ${took.toFixed(0)} ms`);
});

test('a rank that never joins: rank 0 names it after the timeout', async () => {
  const port = await freePort();
  await assert.rejects(
    initProcessGroup({ rank: 0, worldSize: 3, masterPort: port, timeoutMs: 1000 }),
    isUserError(new RegExp(`ranks 1, 2 of 3 did not join within 1\\.0 s \\(rendezvous at 127\\.0\\.0\\.1:${port}\\)`)),
  );
});

test('a one-rank group (TCP or file store): collectives work, a caller mistake leaves the group working, DDP says what it needs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlcv-store-'));
  try {
    for (const o of [{ masterPort: await freePort() }, { storeFile: join(dir, 'store') }]) {
      const group = await initProcessGroup({ rank: 0, worldSize: 1, timeoutMs: 5000, ...o });
      assert.deepEqual(await group.allreduceSums([1.5, 2]), [1.5, 2]);
      assert.deepEqual(group.allreduceSumsSync([3, 4.5]), [3, 4.5]);
      group.barrierSync();
      // Buckets of mixed dtypes, a strided view and lone tensors come back unharmed (one rank sums with nothing;
      // that the sums are copied back is what the two-process tests check).
      const parts = [tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1), tensor([7, 8], { dtype: 'float64' }), tensor([9, 10, 11, 12]), tensor([13])];
      const before = parts.map((t) => Array.from(t.contiguous().toTypedArray() as Float32Array));
      for (const bucketBytes of [8, 1 << 20]) {
        await group.allreduce(parts, { average: true, bucketBytes });
        assert.deepEqual(parts.map((t) => Array.from(t.contiguous().toTypedArray() as Float32Array)), before, `buckets of ${bucketBytes} bytes`);
      }
      for (const t of parts) t.dispose();
      const gone = tensor([1, 2]);
      gone.dispose();
      const disposed = (e: unknown): boolean => e instanceof TlcvError && e.code === 'DISPOSED';
      assert.throws(() => void group.allreduce([gone]), disposed);
      assert.throws(() => group.allreduceSync([gone]), disposed);
      assert.throws(() => void group.broadcast([], 1), isUserError(/root/));
      assert.equal(group.failure, null);
      const model = new TinyNet(TINY_CONFIG);
      const ddp = await DistributedDataParallel.create(model, group);
      await assert.rejects(ddp.allreduceGradients(), isUserError(/parameter features\.0\.weight got no gradient in this step/));
      ddp.dispose();
      model.freeze();
      await assert.rejects(DistributedDataParallel.create(model, group), isUserError(/needs at least one trainable parameter/));
      model.dispose();
      group.destroy();
      await assert.rejects(group.barrier(), isUserError(/destroyed/));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
