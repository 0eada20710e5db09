// Float conversions between float32 and the 16-bit formats of safetensors files (F16 = IEEE half, BF16 = bfloat16).
// All rounding is round-to-nearest-even, as torch's `.to(torch.bfloat16)` / `.half()` do, so a file we write in
// bf16 holds the same bits torch would write for the same float32 weights.
import { mustBe, type CheckSite } from "../core/checks.js";

/** Element dtypes cellrl reads from safetensors (all become float32 tensors); F32, F16 and BF16 can also be written. */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64";

/** Bytes per element of each supported dtype. */
export const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** Names torch uses in config.json `torch_dtype` for each writable dtype. */
export const TORCH_DTYPE: Record<"F32" | "F16" | "BF16", string> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

/** Check a dtype to write: "F32", "BF16" or "F16", else `<where>: options.dtype must be "F32", "BF16" or "F16" ...`. */
export function checkWriteDtype(at: CheckSite, dtype: unknown): void {
  if (!["F32", "BF16", "F16"].includes(dtype as string))
    mustBe(at, "options.dtype", 'must be "F32", "BF16" or "F16"', dtype);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
let halfTable: Float32Array | null = null;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Float32 value of every IEEE half bit pattern, built once (256 KB) so decoding is one lookup per element.
 * @example f16ToF32(new Uint16Array([0x3c00]))[0] // 1
 */
export function f16ToF32(src: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = halfTable[src[i]];
  return out;
}

/**
 * Decode bfloat16 bit patterns: a bf16 is the top 16 bits of a float32, so this is exact.
 * @example bf16ToF32(new Uint16Array([0x3f80]))[0] // 1
 */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
  return new Float32Array(out.buffer);
}

/**
 * Round float32 values to bfloat16 bit patterns (round-to-nearest-even; NaN stays NaN).
 * @example f32ToBf16(new Float32Array([1]))[0] // 0x3f80
 */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const u = bits[i];
    if ((u & 0x7fffffff) > 0x7f800000) out[i] = ((u >>> 16) & 0x8000) | 0x7fc0;
    else out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** One float32 to IEEE half bits, round-to-nearest-even, overflow to +-Infinity, gradual underflow to subnormals. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: value = mant24 * 2^(exp-150), half unit = 2^-24, so shift right by 126 - exp.
    const shift = 14 - e;
    if (shift >= 25) return sign;
    const m24 = mant | 0x800000;
    let q = m24 >>> shift;
    const r = m24 & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (r > halfway || (r === halfway && q & 1)) q++;
    return sign | q;
  }
  let h = (e << 10) | (mant >>> 13);
  const r = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is exactly the right rounding (up to Infinity).
  if (r > 0x1000 || (r === 0x1000 && h & 1)) h++;
  return sign | h;
}

/**
 * Round float32 values to IEEE half bit patterns.
 * @example f32ToF16(new Float32Array([1]))[0] // 0x3c00
 */
export function f32ToF16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]);
  return out;
}

/**
 * Decode raw little-endian bytes of one tensor into float32 (copying, so the result owns aligned memory).
 * @example decodeToF32(bytes, "BF16")
 */
export function decodeToF32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  // Copy into a fresh buffer: the source may sit at an odd offset inside a file buffer.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const n = buf.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case "F32":
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    case "F64":
      return Float32Array.from(new Float64Array(buf.buffer, buf.byteOffset, n));
    case "F16":
      return f16ToF32(new Uint16Array(buf.buffer, buf.byteOffset, n));
    case "BF16":
      return bf16ToF32(new Uint16Array(buf.buffer, buf.byteOffset, n));
  }
}

/**
 * Encode float32 values as little-endian bytes of `dtype` (F32, F16 or BF16).
 * @example encodeFromF32(new Float32Array([1, 2]), "BF16").byteLength // 4
 */
export function encodeFromF32(values: Float32Array, dtype: "F32" | "F16" | "BF16"): Uint8Array {
  if (dtype === "F32") return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const half = dtype === "BF16" ? f32ToBf16(values) : f32ToF16(values);
  return new Uint8Array(half.buffer);
}
