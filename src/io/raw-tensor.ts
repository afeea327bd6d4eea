/** Tensors to and from raw little-endian bytes, as weight files store them. */
import { endianness } from 'node:os';
import { fromTypedArray, tidy, type DType, type Tensor } from '../tensor/index.js';
import { dtypeCode } from '../tensor/dtype.js';
import { invoke } from '../tensor/invoke.js';
import { TlcvError } from '../errors.js';

export const ITEM_SIZE: Record<DType, number> = { uint8: 1, int8: 1, bool: 1, int16: 2, float16: 2, bfloat16: 2, int32: 4, float32: 4, int64: 8, float64: 8 };

function checkHostOrder(): void {
  if (endianness() !== 'LE') throw new TlcvError('WEIGHTS', 'weight files are little-endian and this machine is big-endian: not supported');
}

/**
 * A tensor holding a copy of `bytes`, read as `dtype` in `shape`. The bytes go over as uint8
 * and are reinterpreted in libtorch, so they need no alignment and are copied once.
 */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: number[]): Tensor {
  checkHostOrder();
  return tidy(() => {
    const u8 = fromTypedArray(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), [bytes.byteLength], { dtype: 'uint8' });
    const typed = dtype === 'uint8' ? u8 : (invoke('view.dtype', [u8, dtypeCode(dtype)]) as Tensor);
    return typed.reshape(shape);
  });
}

/** The bytes of a tensor in row-major order (a contiguous CPU copy). */
export function tensorBytes(t: Tensor): Uint8Array {
  checkHostOrder();
  const a = t.toTypedArray();
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
