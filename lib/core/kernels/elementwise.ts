import * as tf from "@tensorflow/tfjs";
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { heapOffset, kernelInstance, type WasmBackendInternals } from "./wasm-backend.js";

// Float32 elementwise ops, exp, and sums / means over trailing or leading axes on the SIMD module. Each kernel
// handles the common layouts and hands anything else (other dtypes, general broadcasting, middle axes) to the stock
// tfjs-wasm kernel it replaced, so results never depend on which path ran beyond float rounding.

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs: NamedAttrMap };
type Stock = (args: Args) => TensorInfo;

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/** How one operand repeats over the output's flat index: `period` (n, 1 or a suffix length) and `div` (column). */
function layout(shape: number[], out: number[]): { period: number; div: number } | null {
  const n = size(out);
  const sz = size(shape);
  if (sz === n && shape.length <= out.length && shape.every((d, i) => d === out[out.length - shape.length + i])) return { period: n, div: 1 };
  if (sz === 1) return { period: 1, div: 1 };
  const r = out.length;
  const padded = [...new Array(r - shape.length).fill(1), ...shape];
  // suffix: leading dims 1, trailing dims equal to the output's
  let k = 0;
  while (k < r && padded[k] === 1 && out[k] !== 1) k++;
  if (k > 0 && padded.slice(k).every((d, i) => d === out[k + i])) return { period: size(out.slice(k)), div: 1 };
  // column: equal to the output except a last dim of 1
  if (padded[r - 1] === 1 && out[r - 1] > 1 && padded.slice(0, r - 1).every((d, i) => d === out[i])) return { period: n / out[r - 1], div: out[r - 1] };
  return null;
}

const OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

/** Add / Sub / Multiply / RealDiv on float32 with same-shape, scalar, suffix-vector or column broadcasting. */
export function binaryKernel(name: string, args: Args, stock: Stock): TensorInfo {
  const { a, b } = args.inputs;
  if (a.dtype !== "float32" || b.dtype !== "float32") return stock(args);
  const out = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const n = size(out);
  const la = layout(a.shape, out);
  const lb = layout(b.shape, out);
  if (!la || !lb || (la.div > 1 && lb.div > 1) || n === 0) return stock(args);
  // Every operand must fit one row length: a suffix period must equal a column's row length when both occur.
  const inner = la.div > 1 ? la.div : lb.div > 1 ? lb.div : 0;
  if (inner && ![la, lb].every((l) => l.div > 1 || l.period === n || l.period === 1 || l.period === inner)) return stock(args);
  if (!inner && la.period !== n && lb.period !== n && la.period !== 1 && lb.period !== 1) return stock(args);
  const backend = args.backend as WasmBackendInternals;
  const res = backend.makeOutput(out, "float32");
  kernelInstance(backend).exports.binary(OPS[name], heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, res), n, la.period, lb.period, la.div, lb.div);
  return res;
}

/** Exp on float32 with a SIMD exp: ~6x the stock kernel (scalar libm), exact 0 below -86.5 (stock: slow denormals). */
export function expKernel(args: Args, stock: Stock): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype !== "float32") return stock(args);
  const backend = args.backend as WasmBackendInternals;
  const res = backend.makeOutput(x.shape, "float32");
  const n = size(x.shape);
  if (n > 0) kernelInstance(backend).exports.expf(heapOffset(backend, x), heapOffset(backend, res), n);
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
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const k = axes.length;
  const trailing = k > 0 && axes.every((a, i) => a === r - k + i);
  const leading = k > 0 && axes.every((a, i) => a === i);
  const backend = args.backend as WasmBackendInternals;
  const mod = kernelInstance(backend).exports;
  if (trailing) {
    const cols = size(x.shape.slice(r - k));
    const res = backend.makeOutput(outShape, "float32");
    mod.rowSum(heapOffset(backend, x), heapOffset(backend, res), size(x.shape) / cols, cols, name === "Mean" ? 1 / cols : 1);
    return res;
  }
  if (leading) {
    const rows = size(x.shape.slice(0, k));
    const res = backend.makeOutput(outShape, "float32");
    mod.colSum(heapOffset(backend, x), heapOffset(backend, res), rows, size(x.shape) / rows, name === "Mean" ? 1 / rows : 1);
    return res;
  }
  return stock(args);
}
