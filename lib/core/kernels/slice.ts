import * as tf from "@tensorflow/tfjs";
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { heapOffset, type WasmBackendInternals } from "./wasm-backend.js";

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Slice as moves inside the wasm heap: one copyWithin for a contiguous slice, one per innermost run otherwise.
 * The stock kernel first reads the whole input out of the heap (a full copy) even for a contiguous slice.
 * @example tf.slice(x, [0, 0], [2, -1]) // no full-input copy on the wasm backend
 */
export function sliceKernel(
  args: { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap },
  stock: tf.KernelFunc,
): TensorInfo {
  const { x } = args.inputs;
  const bpe = BYTES[x.dtype];
  // strings live outside the heap
  if (bpe === undefined) return stock(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
  const backend = args.backend as WasmBackendInternals;
  const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  const out = backend.makeOutput(s, x.dtype);
  const n = s.reduce((p, d) => p * d, 1);
  if (n === 0) return out;
  const heap = new Uint8Array(backend.wasm.asm.memory.buffer); // after makeOutput, which may grow the heap
  const src = heapOffset(backend, x);
  const dst = heapOffset(backend, out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
    const off = src + tf.slice_util.computeFlatOffset(b, strides) * bpe;
    heap.copyWithin(dst, off, off + n * bpe);
    return out;
  }
  // Merge trailing dims taken whole into one contiguous run, then walk the outer index space.
  let inner = rank - 1;
  let run = s[rank - 1];
  while (inner > 0 && s[inner] === x.shape[inner] && b[inner] === 0) {
    inner--;
    run *= s[inner];
  }
  const runBytes = run * bpe;
  const idx = new Array(inner).fill(0);
  const rows = n / run;
  let o = dst;
  for (let r = 0; r < rows; r++) {
    let off = b[inner] * (strides[inner] ?? 1);
    for (let d = 0; d < inner; d++) off += (b[d] + idx[d]) * strides[d];
    const from = src + off * bpe;
    heap.copyWithin(o, from, from + runBytes);
    o += runBytes;
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
