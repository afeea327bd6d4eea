/**
 * Whether tensors changed since a cache was made from them: libtorch bumps a tensor's version
 * counter on every in-place write (an optimizer step, copy_, a loaded state dict), and a
 * replaced tensor has a new handle. One native call reads every counter.
 */
import { native } from '../native/binding.js';
import type { Tensor } from './tensor.js';

/**
 * A fingerprint of the tensors' handles and version counters: equal strings mean none of them
 * was replaced or written in place in between.
 *
 * @example
 * const before = tensorsVersion(model.parameters());
 * opt.step();
 * tensorsVersion(model.parameters()) !== before; // true
 */
export function tensorsVersion(tensors: Tensor[]): string {
  const handles = Uint32Array.from(tensors, (t) => t.handle);
  const versions = native.versions(handles);
  let out = '';
  for (let i = 0; i < handles.length; i += 1) out += `${handles[i]}:${versions[i]},`;
  return out;
}
