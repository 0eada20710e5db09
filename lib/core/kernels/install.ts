import * as tf from "@tensorflow/tfjs";
import { warn } from "../warn.js";
import { binaryKernel, expKernel, reduceKernel } from "./elementwise.js";
import { identityKernel } from "./identity.js";
import { batchMatMulKernel, fusedMatMulKernel } from "./matmul.js";
import { sliceKernel } from "./slice.js";
import { dropWorkerScratch, kernelThreadCount, startKernelThreads, stopKernelThreads } from "./threads.js";
import { transposeKernel } from "./transpose.js";
import { availableBuilds, kernelInstance, resetKernelInstance, type WasmBackendInternals } from "./wasm-backend.js";

/** Which fast kernels are registered on the wasm backend, and which matmul build they run. */
export interface FastKernelState {
  /** Kernel names currently replaced (BatchMatMul, _FusedMatMul, Identity, Slice, elementwise ...), empty when off. */
  kernels: string[];
  /** "fma" (relaxed-SIMD fused multiply-add) or "simd"; null when the fast kernels are off. */
  build: "fma" | "simd" | null;
}

/** Options for installFastKernels. */
export interface InstallFastKernelsOptions {
  /**
   * Matmul build: "fma" when this V8 supports relaxed SIMD (falls back to "simd"), or force "simd". Defaults to "fma".
   */
  build?: "fma" | "simd";
  /** Kernels to replace. Defaults to all of them. */
  kernels?: string[];
}

// Softmax, Sigmoid and Max stay on tfjs-wasm's XNNPACK kernels: measured faster than SIMD versions of them here.
const ALL = [
  "BatchMatMul",
  "_FusedMatMul",
  "Identity",
  "Slice",
  "Transpose",
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Exp",
  "Sum",
  "Mean",
];
const stock = new Map<string, tf.KernelConfig>();
let state: FastKernelState = { kernels: [], build: null };

type AnyArgs = Parameters<typeof binaryKernel>[1];

function config(name: string, stockFunc: tf.KernelFunc): tf.KernelConfig {
  const stock = stockFunc as unknown as (args: AnyArgs) => tf.TensorInfo;
  const impl: (args: AnyArgs) => tf.TensorInfo =
    name === "BatchMatMul"
      ? (a) => batchMatMulKernel(a as Parameters<typeof batchMatMulKernel>[0])
      : name === "_FusedMatMul"
        ? (a) => fusedMatMulKernel(a as Parameters<typeof fusedMatMulKernel>[0])
        : name === "Identity"
          ? (a) => identityKernel(a as unknown as Parameters<typeof identityKernel>[0])
          : name === "Slice"
            ? (a) => sliceKernel(a as Parameters<typeof sliceKernel>[0], stockFunc)
            : name === "Transpose"
              ? (a) =>
                  transposeKernel(
                    a as unknown as Parameters<typeof transposeKernel>[0],
                    stock as unknown as Parameters<typeof transposeKernel>[1],
                  )
              : name === "Exp"
                ? (a) => expKernel(a, stock)
                : name === "Sum" || name === "Mean"
                  ? (a) => reduceKernel(name, a, stock)
                  : (a) => binaryKernel(name, a, stock);
  return { kernelName: name, backendName: "wasm", kernelFunc: impl as unknown as tf.KernelFunc };
}

/**
 * Replace tfjs-wasm kernels with cellrl's faster ones: a SIMD matmul for every shape (BatchMatMul, _FusedMatMul),
 * copy-free Identity, in-heap Slice, last-axis-preserving Transpose, and SIMD float32 Add/Sub/Multiply/RealDiv, Exp,
 * Sum/Mean (common layouts; others fall through to the stock kernel). useBackend() calls this on wasm; returns note
 * lines.
 * @example installFastKernels() // ["fast kernels: BatchMatMul, _FusedMatMul, Identity, Slice (matmul build fma)"]
 */
export function installFastKernels(options: InstallFastKernelsOptions = {}): string[] {
  const { build = "fma", kernels = ALL } = options;
  const unknown = kernels.filter((k) => !ALL.includes(k));
  if (unknown.length)
    throw new Error(
      `core.installFastKernels: unknown kernel ${JSON.stringify(unknown[0])} (known: ${ALL.join(", ")}).`,
    );
  const be = tf.findBackend("wasm") as unknown as WasmBackendInternals | null;
  if (!be) return ["fast kernels off: the wasm backend is not initialised"];
  uninstallFastKernels();
  let chosen: "fma" | "simd";
  try {
    const builds = availableBuilds();
    chosen = build === "fma" && builds.includes("fma") ? "fma" : "simd";
    dropWorkerScratch((p) => be.wasm._free(p));
    resetKernelInstance(be);
    kernelInstance(be, chosen);
  } catch (e) {
    const why = (e as Error).message;
    warn(
      "core/fastKernels",
      `core.useBackend: cellrl's fast wasm kernels could not load (${why}); ` +
        "using the stock tfjs kernels (about 10x slower training).",
    );
    return [`fast kernels off: ${why}`];
  }
  for (const name of kernels) {
    const orig = tf.getKernel(name, "wasm");
    if (!orig) continue;
    stock.set(name, orig);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(config(name, orig.kernelFunc));
  }
  state = { kernels: [...stock.keys()], build: chosen };
  const fellBack = chosen === "simd" && build === "fma" ? ": no relaxed SIMD in this V8" : "";
  return [`fast kernels: ${state.kernels.join(", ")} (matmul build ${chosen}${fellBack})`];
}

/**
 * Put the stock tfjs-wasm kernels back (useBackend({fastKernels: false}) calls this).
 * @example uninstallFastKernels(); fastKernelState().kernels // []
 */
export function uninstallFastKernels(): void {
  stopKernelThreads();
  for (const [name, orig] of stock) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(orig);
  }
  stock.clear();
  state = { kernels: [], build: null };
}

/**
 * Which fast kernels are active now.
 * @example fastKernelState() // { kernels: ["BatchMatMul", ...], build: "fma" }
 */
export function fastKernelState(): FastKernelState {
  return { kernels: [...state.kernels], build: state.build };
}

/**
 * Run cellrl's kernels on `threads` threads of this process (1 stops them). Needs the fast kernels installed and the
 * tfjs heap shared (useBackend starts the wasm backend that way); otherwise it stays at 1 thread and says why.
 * useBackend({threads}) calls this; returns note lines.
 * @example await setKernelThreads(2) // ["kernel threads: 2 (matmul, elementwise, exp, sums, transposes)"]
 */
export async function setKernelThreads(threads: number): Promise<string[]> {
  const be = tf.findBackend("wasm") as unknown as WasmBackendInternals | null;
  if (threads <= 1 || !be || !state.build) {
    stopKernelThreads();
    return threads > 1 ? ["kernel threads: 1 (cellrl's fast kernels are off)"] : ["kernel threads: 1"];
  }
  const memory = be.wasm.asm.memory;
  if (!(memory.buffer instanceof SharedArrayBuffer)) {
    stopKernelThreads();
    warn(
      "core/kernelThreads",
      "core.useBackend: the tfjs-wasm heap is not shared (the wasm backend was started before cellrl's useBackend), " +
        "so kernels run on 1 thread. Call useBackend() before any tf.setBackend('wasm').",
    );
    return ["kernel threads: 1 (the tfjs-wasm heap is not shared)"];
  }
  dropWorkerScratch((p) => be.wasm._free(p));
  await startKernelThreads(memory, kernelInstance(be).module, threads);
  return [`kernel threads: ${kernelThreadCount()} (matmul, elementwise, exp, sums and transposes split per op)`];
}
