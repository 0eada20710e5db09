import * as tf from "@tensorflow/tfjs";
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { chunkCount, runParts, splitRange, threadTuning } from "./threads.js";
import { heapOffset, kernelInstance, type WasmBackendInternals } from "./wasm-backend.js";

// Float32 elementwise ops, exp, and sums / means over trailing or leading axes on the SIMD module. Each kernel
// handles the common layouts and hands anything else (other dtypes, general broadcasting, middle axes) to the stock
// tfjs-wasm kernel it replaced, so results never depend on which path ran beyond float rounding.

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs: NamedAttrMap };
type Stock = (args: Args) => TensorInfo;

function size(s: number[]): number {
  let p = 1;
  for (let i = 0; i < s.length; i++) p *= s[i];
  return p;
}

function sameShape(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The broadcast as at most 3 merged dims [d0, d1, d2] with element strides for a and b (0 = repeated), or null when
 * it needs more than 3 (then the stock kernel runs). Output dims of 1 are dropped; adjacent dims where a and b
 * broadcast alike are merged, so same-shape, scalar, row-vector, column, middle-axis ([B, H, T] * [B, 1, T]) and
 * outer-product layouts all fit.
 */
export function broadcastPlan(
  aShape: number[],
  bShape: number[],
  out: number[],
): { dims: number[]; as: number[]; bs: number[] } | null {
  const r = out.length;
  const pa = [...new Array(r - aShape.length).fill(1), ...aShape];
  const pb = [...new Array(r - bShape.length).fill(1), ...bShape];
  const dims: { n: number; ba: boolean; bb: boolean }[] = [];
  for (let i = 0; i < r; i++) {
    if (out[i] === 1) continue;
    const ba = pa[i] === 1;
    const bb = pb[i] === 1;
    const last = dims[dims.length - 1];
    if (last && last.ba === ba && last.bb === bb) last.n *= out[i];
    else dims.push({ n: out[i], ba, bb });
  }
  if (dims.length > 3) return null;
  while (dims.length < 3) dims.unshift({ n: 1, ba: true, bb: true });
  const strides = (bcast: (d: { ba: boolean; bb: boolean }) => boolean) => {
    const st = [0, 0, 0];
    let acc = 1;
    for (let i = 2; i >= 0; i--) {
      if (bcast(dims[i])) continue;
      st[i] = acc;
      acc *= dims[i].n;
    }
    return st;
  };
  return { dims: dims.map((d) => d.n), as: strides((d) => d.ba), bs: strides((d) => d.bb) };
}

const OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

/** How many chunks to cut an op over `n` elements into for the kernel threads (1 below the hand-off threshold). */
function chunksFor(n: number): number {
  return chunkCount(n, threadTuning.minElements);
}

/**
 * binary() over an output [d0, d1, d2] with strides xs / ys, cut into chunks along the outermost dim longer than 1
 * (d2 in multiples of 4). Elementwise results do not depend on the cut.
 */
function binaryParts(
  backend: WasmBackendInternals,
  op: number,
  x: number,
  y: number,
  out: number,
  d: number[],
  xs: number[],
  ys: number[],
): void {
  const kernels = kernelInstance(backend).exports;
  // Cut the outermost dim longer than 1 (chunks of it are contiguous in the output); d2 in multiples of 4.
  const axis = d[0] > 1 ? 0 : d[1] > 1 ? 1 : 2;
  const chunks = Math.min(chunksFor(d[0] * d[1] * d[2]), axis === 2 ? Math.ceil(d[2] / 4) : d[axis]);
  if (chunks === 1) {
    runParts(kernels, "binary", [[op, x, y, out, d[0], d[1], d[2], xs[0], xs[1], xs[2], ys[0], ys[1], ys[2]]]);
    return;
  }
  const inner = axis === 0 ? d[1] * d[2] : axis === 1 ? d[2] : 1;
  const parts = splitRange(d[axis], chunks, axis === 2 ? 4 : 1).map(([s, e]) => {
    const dims = d.slice();
    dims[axis] = e - s;
    return [op, x + s * xs[axis] * 4, y + s * ys[axis] * 4, out + s * inner * 4, ...dims, ...xs, ...ys];
  });
  runParts(kernels, "binary", parts);
}

/** Add / Sub / Multiply / RealDiv on float32 for any broadcast that merges to rank <= 3. */
export function binaryKernel(name: string, args: Args, stock: Stock): TensorInfo {
  const { a, b } = args.inputs;
  if (a.dtype !== "float32" || b.dtype !== "float32") return stock(args);
  const backend = args.backend as WasmBackendInternals;
  const op = OPS[name];
  if (sameShape(a.shape, b.shape)) {
    // The common case without building a plan (this path runs thousands of times per generate call).
    const n = size(a.shape);
    if (n === 0) return stock(args);
    const res = backend.makeOutput(a.shape.slice(), "float32");
    const [pa, pb, pr] = [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, res)];
    if (n < threadTuning.minElements) kernelInstance(backend).exports.binary(op, pa, pb, pr, 1, 1, n, 0, 0, 1, 0, 0, 1);
    else binaryParts(backend, op, pa, pb, pr, [1, 1, n], [0, 0, 1], [0, 0, 1]);
    return res;
  }
  const out = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const plan = broadcastPlan(a.shape, b.shape, out);
  if (!plan || size(out) === 0) return stock(args);
  const res = backend.makeOutput(out, "float32");
  binaryParts(backend, op, heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, res), plan.dims, plan.as, plan.bs); // prettier-ignore
  return res;
}

/** Exp on float32 with a SIMD exp: ~6x the stock kernel (scalar libm), exact 0 below -86.5 (stock: slow denormals). */
export function expKernel(args: Args, stock: Stock): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== "float32") return stock(args);
  const backend = args.backend as WasmBackendInternals;
  const res = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n === 0) return res;
  const [px, pr] = [heapOffset(backend, x), heapOffset(backend, res)];
  const parts = splitRange(n, chunksFor(n), 4).map(([s, e]) => [px + 4 * s, pr + 4 * s, e - s]);
  runParts(kernelInstance(backend).exports, "expf", parts);
  return res;
}

/** Sum / Mean over trailing axes (incl. all) or leading axes; other axes go to the stock kernel. */
export function reduceKernel(name: string, args: Args, stock: Stock): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== "float32") return stock(args);
  const attrs = args.attrs as { axis?: number | number[]; keepDims?: boolean };
  const r = x.shape.length;
  if (r === 0 || size(x.shape) === 0) return stock(args);
  const axes = tf.util.parseAxisParam(attrs.axis ?? [], x.shape).sort((p, q) => p - q);
  const outShape = attrs.keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
  const k = axes.length;
  const trailing = k > 0 && axes.every((a, i) => a === r - k + i);
  const leading = k > 0 && axes.every((a, i) => a === i);
  const backend = args.backend as WasmBackendInternals;
  const mod = kernelInstance(backend).exports;
  const n = size(x.shape);
  if (trailing) {
    // Rows are independent sums: cut them into chunks.
    const cols = size(x.shape.slice(r - k));
    const res = backend.makeOutput(outShape, "float32");
    const [px, pr] = [heapOffset(backend, x), heapOffset(backend, res)];
    const scale = name === "Mean" ? 1 / cols : 1;
    const parts = splitRange(n / cols, chunksFor(n), 1).map(([s, e]) => [px + 4 * s * cols, pr + 4 * s, e - s, cols, scale]); // prettier-ignore
    runParts(mod, "rowSum", parts);
    return res;
  }
  if (leading) {
    // Columns are independent sums (each over all rows, in row order): cut the columns, multiples of 4.
    const rows = size(x.shape.slice(0, k));
    const cols = n / rows;
    const res = backend.makeOutput(outShape, "float32");
    const [px, pr] = [heapOffset(backend, x), heapOffset(backend, res)];
    const scale = name === "Mean" ? 1 / rows : 1;
    const parts = splitRange(cols, chunksFor(n), 4).map(([s, e]) => [px + 4 * s, pr + 4 * s, rows, e - s, cols, scale]); // prettier-ignore
    runParts(mod, "colSum", parts);
    return res;
  }
  return stock(args);
}
