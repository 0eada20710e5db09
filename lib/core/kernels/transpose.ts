import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { chunkCount, runParts, splitRange, threadTuning } from "./threads.js";
import { heapOffset, kernelInstance, type WasmBackendInternals } from "./wasm-backend.js";

function size(s: number[]): number {
  return s.reduce((p, d) => p * d, 1);
}

type Args = { inputs: { x: TensorInfo }; backend: unknown; attrs: NamedAttrMap };

/**
 * Transpose of rank <= 4 that keeps the last axis last (the attention head split/merge [0, 2, 1, 3]) as copies of
 * whole last-axis runs on the SIMD module; other permutations (and non-4-byte dtypes) run the stock kernel.
 * @example tf.transpose(x, [0, 2, 1, 3]) // [B, T, H, hd] -> [B, H, T, hd]
 */
export function transposeKernel(args: Args, stock: (args: Args) => TensorInfo): TensorInfo {
  const { x } = args.inputs;
  const perm = (args.attrs as { perm: number[] }).perm;
  const r = x.shape.length;
  if (r < 2 || r > 4 || perm[r - 1] !== r - 1 || x.dtype === "string" || x.dtype === "bool" || x.shape[r - 1] < 4)
    return stock(args);
  const backend = args.backend as WasmBackendInternals;
  const outShape = perm.map((p) => x.shape[p]);
  const res = backend.makeOutput(outShape, x.dtype);
  const run = x.shape[r - 1];
  if (outShape.some((d) => d === 0)) return res;
  // Strides of x in units of floats, for each output dim (out dim i reads x dim perm[i]).
  const xStride = new Array(r).fill(1);
  for (let i = r - 2; i >= 0; i--) xStride[i] = xStride[i + 1] * x.shape[i + 1];
  const dims = outShape.slice(0, r - 1);
  const strides = perm.slice(0, r - 1).map((p) => xStride[p]);
  while (dims.length < 3) {
    dims.unshift(1);
    strides.unshift(0);
  }
  // Cut the outermost dim with room into chunks for the kernel threads (each output run is written by one chunk).
  const px = heapOffset(backend, x);
  const pr = heapOffset(backend, res);
  const n = size(outShape);
  // The outermost dim longer than 1; the runs of the chunks are then contiguous in the output.
  const axis = dims[0] > 1 ? 0 : dims[1] > 1 ? 1 : 2;
  const chunks = Math.min(chunkCount(n, threadTuning.minElements), dims[axis]);
  const inner = (axis === 0 ? dims[1] * dims[2] : axis === 1 ? dims[2] : 1) * run;
  const parts = splitRange(dims[axis], chunks, 1).map(([s, e]) => {
    const d = dims.slice();
    d[axis] = e - s;
    return [px + 4 * s * strides[axis], pr + 4 * s * inner, ...d, ...strides, run];
  });
  runParts(kernelInstance(backend).exports, "transposeRuns", parts);
  return res;
}
