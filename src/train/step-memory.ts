/**
 * What a training step costs in memory on this machine, measured rather than looked up: two
 * forward-and-backward passes at small batches (2 and 3), read from the CPU memory cache's in-use counters
 * (src/tensor/memory.ts). The difference between the two gives the bytes per image (the
 * activations autograd keeps, and their gradients in backward); the rest is what any step adds
 * (the parameters' gradients, workspaces). The model comes out as it went in: its weights are
 * not stepped, its BatchNorm running statistics are put back, its gradients are cleared, and
 * dropout and stochastic depth stay off during the passes, so the random generator's stream is
 * not drawn from and a seeded run gives the same metrics with or without the measurement.
 */
import { F, cpuMemoryCache, releaseCpuMemoryCache, tidy, zeros, type Tensor } from '../tensor/index.js';
import { Dropout, StochasticDepth, type Module } from '../nn/index.js';
import { ModelSnapshot } from './model-snapshot.js';

/** A training step's peak memory in use, as `fixedBytes + perImageBytes × batch`. */
export interface StepMemory {
  perImageBytes: number;
  fixedBytes: number;
  /**
   * 'peak': from the cache's high-water mark (each pass set a new one); 'saved': from the bytes
   * autograd holds after the forward, when an earlier, larger workload had set the mark (the
   * mark never goes down), scaled by the peak-to-saved ratio the peak method measures.
   */
  method: 'peak' | 'saved';
}

/**
 * In the zoo's models at 224 px (fp32), a step's peak per image is within 4% of the bytes the
 * forward keeps per image (resnet18 20.9 against 21.2 MB, resnet50 83.9 against 85.9,
 * mobilenet_v2 79.8 against 76.7): 1.1 covers that where only the kept bytes can be read.
 */
const PEAK_OVER_SAVED = 1.1;

function* modules(m: Module): Iterable<Module> {
  yield* m.namedModules().values();
}

/** One forward and backward at `batch`: the bytes in use before, after the forward, and the peak after. */
function pass(model: Module & { forward(x: Tensor): Tensor }, input: [number, number, number], batch: number, device: string): { before: number; saved: number; peak: number; peakBefore: number } {
  const s0 = cpuMemoryCache();
  let saved = 0;
  tidy(() => {
    const x = zeros([batch, ...input], { device });
    const y = zeros([batch], { dtype: 'int64', device });
    const loss = tidy(() => F.crossEntropy(model.forward(x), y));
    saved = cpuMemoryCache().inUseBytes - s0.inUseBytes;
    loss.backward();
  });
  for (const p of model.parameters()) p.grad = null;
  return { before: s0.inUseBytes, saved, peak: cpuMemoryCache().peakInUseBytes, peakBefore: s0.peakInUseBytes };
}

/**
 * Measures a training step's memory for `model` on inputs of `input` ([C, H, W]), with its
 * current frozen layers (frozen layers keep no activations). Null where it cannot be measured:
 * the CPU memory cache is off (TLCV_CPU_CACHE_MB=0), or the model is not on the CPU.
 *
 * @example
 * const m = measureStepMemory(model, [3, 224, 224]); // resnet18: perImageBytes ≈ 22e6
 */
export function measureStepMemory(model: Module & { forward(x: Tensor): Tensor }, input: [number, number, number], o: { batches?: [number, number]; device?: string } = {}): StepMemory | null {
  const device = o.device ?? 'cpu';
  if (!cpuMemoryCache().enabled || !device.startsWith('cpu')) return null;
  const params = model.parameters();
  if (params.some((p) => p.requiresGrad) === false) return null;
  // Batches of 2 and 3: the measurement must not itself cost more than the batch it chooses
  // (BatchNorm in training mode needs 2 images where a layer's output is 1x1).
  const [small, large] = o.batches ?? [2, 3];
  // The running statistics a train-mode forward updates, and the modes, put back afterwards.
  const snapshot = new ModelSnapshot(model, { weights: false });
  try {
    model.train(true);
    for (const m of modules(model)) if (m instanceof Dropout || m instanceof StochasticDepth) m.training = false;
    const a = pass(model, input, small, device);
    const b = pass(model, input, large, device);
    const moved = a.peak > a.peakBefore && b.peak > b.peakBefore;
    if (moved) {
      const perImage = Math.max(0, (b.peak - b.before - (a.peak - a.before)) / (large - small));
      return { perImageBytes: perImage, fixedBytes: Math.max(0, a.peak - a.before - perImage * small), method: 'peak' };
    }
    const perImage = (Math.max(0, b.saved - a.saved) / (large - small)) * PEAK_OVER_SAVED;
    const grads = params.filter((p) => p.requiresGrad).reduce((s, p) => s + p.numel * 4, 0);
    return { perImageBytes: perImage, fixedBytes: grads + Math.max(0, a.saved - perImage * small), method: 'saved' };
  } finally {
    snapshot.restore();
    // The passes' blocks are of sizes the run will not ask for again.
    releaseCpuMemoryCache();
  }
}
