/** 16-bit float decoding: float16 and bfloat16 tensors come back from the addon as raw bits. */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 is the top half of a float32, so widening is a shift. */
export function bfloat16BitsToNumber(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

/** IEEE 754 binary16 to a JS number, subnormals, infinities and NaN included. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Decodes a Uint16Array of raw 16-bit float bits into JS numbers. */
export function decodeHalf(bits: Uint16Array, dtype: 'float16' | 'bfloat16'): number[] {
  const decode = dtype === 'float16' ? float16BitsToNumber : bfloat16BitsToNumber;
  return Array.from(bits, decode);
}
