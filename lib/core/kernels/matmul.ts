import * as tf from "@tensorflow/tfjs";
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { chunkCount, ensureWorkerScratch, runParts, splitRange, threadTuning } from "./threads.js";
import { heapOffset, kernelInstance, scratch, type KernelInstance, type WasmBackendInternals } from "./wasm-backend.js";

/** Blocking of the packed GEMM (see kernels.as); tuned on a 2-core AMD EPYC (48 KB L1d, 1 MB L2 per core). */
export interface MatmulBlocking {
  /** K is cut into blocks of this many when it exceeds `kBlockAbove` (a^T @ dy with K = B*T). Defaults to 256. */
  kBlock: number;
  /** K at or below this is not blocked. Defaults to 512. */
  kBlockAbove: number;
  /** Bytes of packed B per block (kc * nc * 4), sized to stay in L2 next to the A strip. Defaults to 262144. */
  packBytes: number;
}

/** Default blocking of the fast matmul kernel. */
export const defaults: MatmulBlocking = { kBlock: 256, kBlockAbove: 512, packBytes: 256 * 1024 };

function prod(dims: number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

/**
 * One bmm over `batch` matrices, cut into chunks for the kernel threads when it is big enough: by matrices when there
 * are enough, else by output rows (multiples of 4, the register tile) when they are many, else by columns (multiples
 * of 8, the packed panel; 4 on the M < 4 paths). `head` is bmm's arguments up to strideB. Each thread packs into its own
 * scratch (the chunks carry this thread's; a worker substitutes its own).
 */
function bmmParts(
  backend: WasmBackendInternals,
  inst: KernelInstance,
  head: number[],
  batch: number,
  kc: number,
  nc: number,
  scrBytes: number,
): void {
  const [, , , M, N, K] = head;
  const chunks = chunkCount(batch * M * N * K, threadTuning.minMatmulWork);
  const scr = scratch(backend, inst, scrBytes);
  if (chunks === 1) {
    runParts(inst.exports, "bmm", [[...head, scr, kc, nc, 0, batch, 0, M, 0, N]]);
    return;
  }
  // A row chunk packs all of B again, a column chunk only its own columns: cut rows only when each chunk keeps
  // enough of them (>= 64) that the repeated packing stays a few percent of its work.
  let ranges: number[][];
  if (batch >= chunks) ranges = splitRange(batch, chunks, 1).map(([s, e]) => [s, e, 0, M, 0, N]);
  else if (M >= 64 * chunks || (M >= 4 && N < 8 * chunks))
    ranges = splitRange(M, chunks, 4).map(([s, e]) => [0, batch, s, e, 0, N]);
  else ranges = splitRange(N, chunks, M < 4 ? 4 : 8).map(([s, e]) => [0, batch, 0, M, s, e]);
  ensureWorkerScratch(
    scrBytes,
    (n) => backend.wasm._malloc(n),
    (p) => backend.wasm._free(p),
  );
  const parts = ranges.map((r) => [...head, scr, kc, nc, ...r]);
  runParts(inst.exports, "bmm", parts);
}

/**
 * out = op(a) @ op(b) on the wasm heap with cellrl's SIMD kernel; any rank >= 2, transposes, broadcast batch dims.
 * @example matmulInto(backend, a, b, false, true) // TensorInfo [..., M, N]
 */
export function matmulInto(
  backend: WasmBackendInternals,
  a: TensorInfo,
  b: TensorInfo,
  transA: boolean,
  transB: boolean,
): TensorInfo {
  if (a.dtype !== "float32" || b.dtype !== "float32")
    throw new Error(
      `core.kernels.matMul: only float32 is supported (got ${a.dtype} @ ${b.dtype}). Cast with .toFloat().`,
    );
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2)
    throw new Error(`core.kernels.matMul: both inputs need rank >= 2 (got [${a.shape}] and [${b.shape}]).`);
  const M = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb)
    throw new Error(
      `Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
        `transposeA=${transA} and transposeB=${transB} must match.`,
    );
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const out = backend.makeOutput([...outer, M, N], "float32");
  const batch = prod(outer);
  if (batch * M * N === 0) return out;
  const inst = kernelInstance(backend);
  const kc = K > defaults.kBlockAbove ? defaults.kBlock : Math.max(K, 1);
  const nc = Math.max(8, Math.floor(defaults.packBytes / 4 / kc / 8) * 8);
  const scrBytes = kc * Math.min(nc, Math.ceil(N / 8) * 8) * 4;
  const pa = heapOffset(backend, a);
  const pb = heapOffset(backend, b);
  const pc = heapOffset(backend, out);
  const sizeA = M * K;
  const sizeB = K * N;
  const batchA = prod(outerA);
  const batchB = prod(outerB);
  const ta = transA ? 1 : 0;
  const tb = transB ? 1 : 0;
  const run = (a0: number, b0: number, c0: number, n: number, m: number, tA: number, sA: number, sB: number) =>
    bmmParts(backend, inst, [a0, b0, c0, m, N, K, tA, tb, sA, sB], n, kc, nc, scrBytes);
  if (batchA === batch && batchB === batch) {
    run(pa, pb, pc, batch, M, ta, sizeA, sizeB);
  } else if (batchB === 1 && batchA === batch && !transA) {
    // One shared B and row-major A: the batch is just more rows, so pack B once.
    run(pa, pb, pc, 1, batch * M, 0, 0, 0);
  } else if (batchB === 1 && batchA === batch) {
    run(pa, pb, pc, batch, M, ta, sizeA, 0);
  } else if (batchA === 1 && batchB === batch) {
    run(pa, pb, pc, batch, M, ta, 0, sizeB);
  } else {
    // General broadcast of the batch dims (e.g. [2,1,..] with [1,3,..]): one call per output matrix.
    const oa = new Array(outer.length - outerA.length).fill(1).concat(outerA);
    const ob = new Array(outer.length - outerB.length).fill(1).concat(outerB);
    const idx = new Array(outer.length).fill(0);
    for (let t = 0; t < batch; t++) {
      let ia = 0;
      let ib = 0;
      for (let d = 0; d < outer.length; d++) {
        ia = ia * oa[d] + (oa[d] === 1 ? 0 : idx[d]);
        ib = ib * ob[d] + (ob[d] === 1 ? 0 : idx[d]);
      }
      run(pa + ia * sizeA * 4, pb + ib * sizeB * 4, pc + t * M * N * 4, 1, M, ta, 0, 0);
      for (let d = outer.length - 1; d >= 0; d--) {
        if (++idx[d] < outer[d]) break;
        idx[d] = 0;
      }
    }
  }
  return out;
}

/** BatchMatMul kernel for the wasm backend (all shapes on the SIMD kernel). */
export function batchMatMulKernel(args: {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: unknown;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  return matmulInto(args.backend as WasmBackendInternals, a, b, !!transposeA, !!transposeB);
}

const ACTIVATION_KERNEL: Record<string, string> = {
  relu: "Relu",
  relu6: "Relu6",
  elu: "Elu",
  sigmoid: "Sigmoid",
  leakyrelu: "LeakyRelu",
  prelu: "Prelu",
};

function runWasmKernel(
  name: string,
  inputs: Record<string, TensorInfo>,
  backend: unknown,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const k = tf.getKernel(name, "wasm");
  if (!k) throw new Error(`core.kernels: the wasm backend has no ${name} kernel.`);
  return k.kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs }) as TensorInfo;
}

/** _FusedMatMul (tf.fused.matMul): the matmul on the SIMD kernel, then bias and activation with the stock kernels. */
export function fusedMatMulKernel(args: {
  inputs: { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: unknown;
  attrs: NamedAttrMap;
}): TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as {
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
    leakyreluAlpha?: number;
  };
  const backend = args.backend as WasmBackendInternals;
  let out = matmulInto(backend, a, b, !!transposeA, !!transposeB);
  const swap = (next: TensorInfo) => {
    backend.disposeData(out.dataId);
    out = next;
  };
  if (bias) swap(runWasmKernel("Add", { a: out, b: bias }, backend));
  const act = activation ?? "linear";
  if (act !== "linear") {
    const kname = ACTIVATION_KERNEL[act];
    if (!kname) {
      backend.disposeData(out.dataId);
      throw new Error(
        `core.kernels.fusedMatMul: unknown activation ${JSON.stringify(act)} ` +
          `(known: linear, ${Object.keys(ACTIVATION_KERNEL).join(", ")}).`,
      );
    }
    if (act === "prelu") swap(runWasmKernel(kname, { x: out, alpha: preluActivationWeights! }, backend));
    else if (act === "leakyrelu") swap(runWasmKernel(kname, { x: out }, backend, { alpha: leakyreluAlpha ?? 0.2 }));
    else swap(runWasmKernel(kname, { x: out }, backend));
  }
  return out;
}
