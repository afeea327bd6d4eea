// Bad input must raise a typed error that names the argument, never abort the process, and
// never show the user a C++ backtrace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  F, cat, fromTypedArray, liveTensors, manualSeed, randint, randn, setNumThreads, tensor, tidy, zeros, type Tensor,
} from '../src/tensor/index.js';
import { TlcvError, TorchError } from '../src/errors.js';

const BACKTRACE = /Exception raised from|frame #\d|\.(cpp|cc|h):\d+|c10::|at::native/;

/** Asserts fn throws a TlcvError with `code` whose message matches every pattern and has no backtrace. */
function throwsTyped(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TlcvError, `expected a TlcvError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  assert.doesNotMatch(caught.message, BACKTRACE);
  if (code === 'TORCH') assert.ok(caught instanceof TorchError);
}

test('mismatched conv shapes raise a TorchError naming both shapes', () => {
  tidy(() => {
    throwsTyped(() => F.conv2d(randn([1, 2, 5, 5]), randn([4, 3, 3, 3])), 'TORCH', /conv2d/, /weight of size \[4, 3, 3, 3\]/, /input\[1, 2, 5, 5\]/, /channels/);
    throwsTyped(() => F.conv2d(randn([1, 3, 2, 2]), randn([4, 3, 3, 3])), 'TORCH', /Kernel size can't be greater than actual input size/);
    throwsTyped(() => F.conv2d(randn([1, 4, 5, 5]), randn([4, 2, 3, 3]), randn([3]), { groups: 2 }), 'TORCH', /bias/);
    throwsTyped(() => F.conv2d(randn([1, 3, 5, 5]), randn([4, 3, 3])), 'ARGUMENT', /for weight/, /4-d/, /\[4, 3, 3\]/);
    throwsTyped(() => F.conv2d(randn([3, 5]), randn([4, 3, 3, 3])), 'ARGUMENT', /for input/, /\[3, 5\]/);
  });
});

test('dtype mismatches raise typed errors naming the tensors', () => {
  tidy(() => {
    const x = randn([2, 3]);
    throwsTyped(() => x.matmul(tensor([[1], [2], [3]], { dtype: 'int64' })), 'TORCH', /other/, /float32/, /int64/);
    throwsTyped(() => x.matmul(randn([4, 5])), 'TORCH', /matmul/, /2x3 and 4x5/);
    throwsTyped(() => F.linear(x, tensor([[1, 2, 3]], { dtype: 'int64' })), 'TORCH', /linear/);
    throwsTyped(() => F.crossEntropy(randn([4, 3]), randn([4])), 'ARGUMENT', /for target/, /int/, /\[4\]/, /float32 tensor of shape \[4\]/);
    throwsTyped(() => F.crossEntropy(randn([4, 3]), randn([4, 5])), 'ARGUMENT', /for target/, /probabilities/, /\[4, 5\]/);
    throwsTyped(() => F.crossEntropy(randn([4, 3]), randint(0, 3, [5])), 'ARGUMENT', /for target/, /\[5\]/);
    throwsTyped(() => F.crossEntropy(randn([4, 3]), randint(0, 3, [4], { dtype: 'int32' })), 'TORCH', /cross_entropy/, /Long/);
    throwsTyped(() => x.add(tensor([true])).mul_(tensor([1], { dtype: 'int64' })).sub_(tensor([true])), 'TORCH', /sub/);
  });
});

test('a disposed tensor raises DISPOSED naming the op and the argument', () => {
  tidy(() => {
    const x = randn([3]);
    const d = randn([3]);
    d.dispose();
    d.dispose();
    throwsTyped(() => x.add(d), 'DISPOSED', /aten::add\.Tensor/, /'other'/);
    throwsTyped(() => d.mul(2), 'DISPOSED', /'self'/);
    throwsTyped(() => cat([x, d]), 'DISPOSED', /'tensors'/);
    throwsTyped(() => F.conv2d(randn([1, 1, 3, 3]), d.reshape([1, 1, 1, 3])), 'DISPOSED');
    throwsTyped(() => d.toTypedArray(), 'DISPOSED');
    throwsTyped(() => x.add_(d), 'DISPOSED', /'other'/);
  });
});

test('shapes, dims and data are validated in TS before the boundary', () => {
  tidy(() => {
    throwsTyped(() => zeros([-1, 2]), 'ARGUMENT', /for shape/, /-1/);
    throwsTyped(() => randn([2, 1.5]), 'ARGUMENT', /for shape/, /1\.5/);
    throwsTyped(() => fromTypedArray(new Float32Array(4), [-2, -2]), 'ARGUMENT', /for shape/);
    throwsTyped(() => fromTypedArray(new Float32Array(5), [2, 2]), 'ARGUMENT', /for data/, /4 elements/, /5 elements/);
    throwsTyped(() => fromTypedArray(new Float32Array(4), [4], { dtype: 'int64' }), 'ARGUMENT', /for data/, /8-byte/);
    throwsTyped(() => tensor([[1, 2], [3]]), 'ARGUMENT', /for data/, /rectangular/);
    throwsTyped(() => tensor([[1, 2], 3]), 'ARGUMENT', /for data/);
    throwsTyped(() => tensor([1, 'two' as unknown as number]), 'ARGUMENT', /for data/, /"two"/);
    throwsTyped(() => tensor([1, NaN], { dtype: 'int64' }), 'ARGUMENT', /for data/, /NaN/);
    const x = randn([2, 3]);
    throwsTyped(() => x.reshape([-2, 3]), 'ARGUMENT', /for shape/, /-2/);
    throwsTyped(() => x.view([-1, -1]), 'ARGUMENT', /for shape/);
    throwsTyped(() => x.size(2), 'ARGUMENT', /for dim/, /\[-2, 2\)/);
    throwsTyped(() => x.sum(1.5), 'ARGUMENT', /'dim'/, /1\.5/);
    throwsTyped(() => x.permute([0, 5]), 'TORCH', /permute/, /Dimension out of range/);
    throwsTyped(() => x.item(), 'TORCH', /one element/);
    throwsTyped(() => randint(5, 5, [2]), 'ARGUMENT', /for high/);
  });
});

test('unknown dtypes, devices and option strings are named', () => {
  tidy(() => {
    const x = randn([1, 1, 4, 4]);
    throwsTyped(() => tensor([1], { dtype: 'float8' as 'float32' }), 'ARGUMENT', /for dtype/, /"float8"/);
    throwsTyped(() => zeros([2], { dtype: 'half' as 'float32' }), 'ARGUMENT', /for dtype/);
    throwsTyped(() => x.to('float8'), 'ARGUMENT', /for target/, /dtype/, /device/);
    throwsTyped(() => x.to({ device: 'gpu' }), 'ARGUMENT', /for device/);
    throwsTyped(() => x.to({ memoryFormat: 'nhwc' as 'channelsLast' }), 'ARGUMENT', /for memoryFormat/);
    throwsTyped(() => F.gridSample(x, randn([1, 2, 2, 2]), { mode: 'area' as 'nearest' }), 'ARGUMENT', /for mode/, /'bilinear'/);
    throwsTyped(() => F.gridSample(x, randn([1, 2, 2, 2]), { paddingMode: 'wrap' as 'zeros' }), 'ARGUMENT', /for paddingMode/);
    throwsTyped(() => F.interpolate(x, { size: [2, 2], mode: 'area' as 'nearest' }), 'ARGUMENT', /for mode/);
    throwsTyped(() => F.interpolate(x, {}), 'ARGUMENT', /size or scaleFactor/);
    throwsTyped(() => F.pad(x, [1, 1], 'circular' as 'reflect'), 'ARGUMENT', /for mode/);
    throwsTyped(() => F.pad(x, [1, 1, 1], 'reflect'), 'ARGUMENT', /for padding/);
    throwsTyped(() => F.crossEntropy(randn([2, 3]), randint(0, 3, [2]), { reduction: 'avg' as 'mean' }), 'ARGUMENT', /for reduction/);
    throwsTyped(() => F.crossEntropy(randn([2, 3]), randint(0, 3, [2]), { labelSmoothing: 2 }), 'ARGUMENT', /for labelSmoothing/);
    throwsTyped(() => F.dropout(x, 1.5, true), 'ARGUMENT', /for p/);
    throwsTyped(() => F.gelu(x, 'fast' as 'tanh'), 'ARGUMENT', /for approximate/);
    throwsTyped(() => manualSeed(-1), 'ARGUMENT', /for seed/);
    throwsTyped(() => setNumThreads(0), 'ARGUMENT', /for threads/);
  });
});

test("device 'cuda' gives a clear TorchError on a CPU-only build, and leaks nothing", () => {
  const before = liveTensors().count;
  tidy(() => {
    throwsTyped(() => randn([2]).to('cuda'), 'TORCH', /cuda/);
    throwsTyped(() => zeros([2], { device: 'cuda' }), 'TORCH', /cuda/);
  });
  throwsTyped(() => tensor([1, 2], { device: 'cuda:0' }), 'TORCH', /cuda/);
  assert.equal(liveTensors().count, before);
});

test('libtorch errors carry no C++ backtrace, and the process survives a burst of them', () => {
  const before = liveTensors().count;
  const bad: (() => Tensor)[] = [
    () => randn([2, 3]).add(randn([4])),
    () => randn([2, 3]).view([7]),
    () => randn([2, 3]).transpose(0, 1).view([6]),
    () => randn([3]).indexSelect(0, tensor([5], { dtype: 'int64' })),
    () => randn([3]).gather(0, tensor([0.5])),
    () => F.maxPool2d(randn([1, 1, 2, 2]), 5),
    () => F.batchNorm(randn([2, 3, 4, 4]), { runningMean: randn([4]), runningVar: randn([4]), training: false }),
    () => F.nllLoss(randn([2, 3]), tensor([0, 7], { dtype: 'int64' })),
  ];
  for (let round = 0; round < 10; round += 1) {
    for (const fn of bad) tidy(() => throwsTyped(fn, 'TORCH'));
  }
  assert.equal(liveTensors().count, before);
});

test('a number or array where the op schema wants a tensor is stopped before the boundary', async () => {
  // Tensor handles are small integers, so without this check `3` would name some other tensor.
  const { invoke } = await import('../src/tensor/invoke.js');
  const a = tensor([1, 2]);
  const live = liveTensors().count;
  throwsTyped(() => invoke('add.Tensor', [a, 3]), 'ARGUMENT', /aten::add\.Tensor: argument 'other' expects a tensor, got 3/);
  throwsTyped(() => invoke('add.Scalar', [a, a]), 'ARGUMENT', /argument 'other' expects a plain value, not a tensor, got a tensor/);
  throwsTyped(() => invoke('cat', [[a, 0]]), 'ARGUMENT', /aten::cat: argument 'tensors' expects an array of tensors, got 0/);
  throwsTyped(() => invoke('cat', [a]), 'ARGUMENT', /expects an array of tensors, got a tensor/);
  // The Tensor methods' hot path hands anything unexpected to the checked path (JS callers have no types).
  throwsTyped(() => a.addcmul_(3 as unknown as Tensor, a), 'ARGUMENT', /aten::addcmul_: argument 'tensor1' expects a tensor, got 3/);
  throwsTyped(() => a.mul('2' as unknown as Tensor), 'ARGUMENT', /aten::mul\.Tensor: argument 'other' expects a tensor, got '2'/);
  throwsTyped(() => a.add_(a, a as unknown as number), 'ARGUMENT', /aten::add_\.Tensor: argument 'alpha' expects a plain value, not a tensor/);
  assert.equal(liveTensors().count, live);
  assert.deepEqual((invoke('add.Tensor', [a, a]) as Tensor).toFlatArray(), [2, 4]);
  a.dispose();
});
