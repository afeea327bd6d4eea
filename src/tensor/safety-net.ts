/**
 * The FinalizationRegistry that frees tensors garbage-collected without dispose(). It is a
 * safety net only (native memory is invisible to the GC, which may never run in time), and
 * only for tensors outside every scope: registering each tensor would cost more than a small op.
 */
import { native, type Handle } from '../native/binding.js';

export const safetyNet = new FinalizationRegistry<Handle>((h) => {
  // The handle is still live: dispose() unregisters, so a freed slot is never released twice.
  native.release(h);
});

interface Guardable {
  readonly isDisposed: boolean;
  guard?(): void;
}

// Tensors made outside any scope are registered in batches, at the end of the current job or
// every 1024, so that `a.add(b).dispose()` outside a scope never pays for registration.
const pending: Guardable[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  for (const t of pending) if (!t.isDisposed) t.guard?.();
  pending.length = 0;
}

export function guardLater(t: Guardable): void {
  pending.push(t);
  if (pending.length >= 1024) flush();
  else if (!scheduled) {
    scheduled = true;
    queueMicrotask(flush);
  }
}
