import * as tf from "@tensorflow/tfjs";
import { availableParallelism } from "node:os";
import { isMainThread } from "node:worker_threads";
import "@tensorflow/tfjs-backend-wasm";
import { fail } from "./errors.js";
import { withSharedWasmHeap } from "./kernels/shared-memory.js";
import { startWebGpu, webGpuAutoSkip } from "./webgpu.js";

/** A tfjs backend cellrl can run on, fastest first. */
export type BackendName = "tensorflow-gpu" | "webgpu" | "tensorflow" | "wasm" | "cpu";

/** What `useBackend` chose and why it passed over the others. */
export interface BackendInfo {
  /** The backend now active. */
  name: BackendName;
  /** tfjs's own backend name ("tensorflow" for both tfjs-node flavours). */
  tfName: string;
  /** One line per backend not chosen: why. */
  skipped: { name: BackendName; reason: string }[];
  /** Extra facts (SIMD, threads, custom kernels). */
  notes: string[];
  /** Kernel threads this process computes on (1 on backends other than wasm, or without cellrl's kernels). */
  threads: number;
}

/** Options for useBackend. */
export interface UseBackendOptions {
  /** Force one backend; fails with the reason when it is not available. Defaults to the fastest available. */
  force?: BackendName;
  /** Register cellrl's faster wasm kernels (matmul etc.) when running on wasm. Defaults to true. */
  fastKernels?: boolean;
  /**
   * Kernel threads on wasm: cellrl's matmul, elementwise, exp, sum and transpose kernels split each op over this many
   * threads of one process, on the shared tfjs heap (results are bit-identical for any count). Defaults to
   * $CELLRL_THREADS, else the cores available (at most 4) on the main thread and 1 inside worker threads.
   */
  threads?: number;
}

const ORDER: BackendName[] = ["tensorflow-gpu", "webgpu", "tensorflow", "wasm", "cpu"];
const NODE_PKG: Record<string, string> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};

let current: BackendInfo | null = null;
/** What the kernel installer is told besides the backend's name. */
export interface KernelInstallOptions {
  threads: number;
}

let kernelInstaller: ((backendName: string, options: KernelInstallOptions) => Promise<string[]>) | null = null;
let kernelUninstaller: ((backendName: string) => void) | null = null;
let kernelThreads: () => number = () => 1;

/**
 * Let a module register extra kernels when a backend is chosen (used by the wasm matmul kernels); `uninstall` runs
 * when useBackend({fastKernels: false}) picks that backend, so the stock kernels come back.
 */
export function onBackendReady(
  install: (backendName: string, options: KernelInstallOptions) => Promise<string[]>,
  uninstall?: (backendName: string) => void,
  threads?: () => number,
): void {
  kernelInstaller = install;
  kernelUninstaller = uninstall ?? null;
  if (threads) kernelThreads = threads;
}

function tryNodeBackend(name: BackendName): string | null {
  const pkg = NODE_PKG[name];
  try {
    require.resolve(pkg);
  } catch {
    return `${pkg} is not installed (optional; its install downloads libtensorflow, so cellrl never requires it)`;
  }
  try {
    require(pkg);
  } catch (e) {
    return `${pkg} is installed but failed to load: ${(e as Error).message.split("\n")[0]}`;
  }
  if (!tf.findBackend("tensorflow")) return `${pkg} loaded but registered no "tensorflow" backend`;
  if (name === "tensorflow-gpu") {
    // tfjs-node-gpu silently runs on CPU when CUDA 11.2/cuDNN 8 libraries are missing; it cannot tell us, so say so.
    return null;
  }
  return null;
}

/**
 * Pick the fastest available tfjs backend (tfjs-node-gpu, webgpu on a hardware GPU, tfjs-node, wasm, cpu), report the
 * choice and why others were skipped. Call once before using tensors; `force` picks one explicitly
 * (`force: "webgpu"` also accepts a software adapter such as Mesa's llvmpipe).
 * @example const info = await useBackend(); info.name // "wasm"
 */
export async function useBackend(options: UseBackendOptions = {}): Promise<BackendInfo> {
  const { force, fastKernels = true } = options;
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    fail(
      "invalid_option",
      `useBackend: threads must be an integer from 1 to 64 (got ${JSON.stringify(options.threads ?? threads)}` +
        `${options.threads === undefined ? " from $CELLRL_THREADS" : ""}). Use 1 for no kernel threads.`,
      { got: threads, path: ["threads"] },
      useBackend,
    );
  if (force !== undefined && !ORDER.includes(force))
    fail(
      "invalid_option",
      `useBackend: unknown backend ${JSON.stringify(force)} (known: ${ORDER.join(", ")}).`,
      {
        got: force,
        expected: ORDER,
      },
      useBackend,
    );
  const skipped: BackendInfo["skipped"] = [];
  const notes: string[] = [];
  const candidates = force ? [force] : ORDER;
  for (const name of candidates) {
    let reason: string | null = null;
    if (name === "tensorflow-gpu" || name === "tensorflow") {
      if (name === "tensorflow" && current?.name === "tensorflow-gpu") reason = "tensorflow-gpu already loaded";
      else reason = tryNodeBackend(name);
      if (name === "tensorflow-gpu" && reason === null)
        notes.push("tfjs-node-gpu targets CUDA 11.2 + cuDNN 8.1; on other CUDA versions it runs on the CPU");
    }
    if (name === "webgpu") {
      // Auto: only a hardware adapter on a machine with a GPU device node; force also takes a software one (llvmpipe).
      reason = force ? null : webGpuAutoSkip();
      if (reason === null) {
        const probe = await startWebGpu(!!force);
        reason = probe.reason;
        if (probe.adapter?.software && !force)
          reason = `only a software adapter (${probe.adapter.description}): slower than wasm; force: "webgpu" uses it`;
        if (probe.adapter && reason === null)
          notes.push(
            `adapter: ${probe.adapter.description}${probe.adapter.software ? " (software)" : ""}, ` +
              `${probe.adapter.featureLevel} feature level`,
          );
      }
    }
    if (reason === null) {
      const tfName = name === "tensorflow-gpu" || name === "tensorflow" ? "tensorflow" : name;
      try {
        // The wasm heap is made shared as the backend starts (a no-op when it already runs), so kernel threads can
        // work on it in place.
        const ok = await (tfName === "wasm" ? withSharedWasmHeap(() => tf.setBackend(tfName)) : tf.setBackend(tfName));
        if (!ok) reason = `tf.setBackend("${tfName}") returned false`;
        else await tf.ready();
      } catch (e) {
        reason = `failed to initialise: ${(e as Error).message.split("\n")[0]}`;
      }
      if (reason === null) {
        if (tfName === "wasm") {
          const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "on" : "off";
          notes.push(`SIMD ${simd}; tfjs-wasm's own threads off (it has none in Node)`);
          // Loaded lazily: lib/core/kernels registers itself through onBackendReady (a static import would be
          // circular).
          // require, not import(): it also works where only a CommonJS loader hook is present (tsx in worker threads).
          if (fastKernels && !kernelInstaller) require("./kernels/index.js");
          if (fastKernels && kernelInstaller) notes.push(...(await kernelInstaller("wasm", { threads })));
          if (!fastKernels && kernelUninstaller) kernelUninstaller("wasm");
        }
        tf.enableProdMode();
        current = { name, tfName, skipped, notes, threads: tfName === "wasm" ? kernelThreads() : 1 };
        return current;
      }
    }
    skipped.push({ name, reason });
  }
  const problem = force ? `backend "${force}" is not available: ${skipped[0]?.reason}` : "no tfjs backend could start";
  return fail(
    "backend",
    `useBackend: ${problem}. ` + `Use useBackend() without force to fall back to wasm or cpu.`,
    { got: force },
    useBackend,
  );
}

/** Kernel threads when useBackend is not told: $CELLRL_THREADS, else the cores (max 4) on the main thread, else 1. */
function defaultThreads(): number {
  const env = process.env.CELLRL_THREADS;
  if (env !== undefined && env !== "") return Number(env);
  return isMainThread ? Math.max(1, Math.min(4, availableParallelism())) : 1;
}

/** The backend chosen by the last `useBackend()`, or null if it has not run. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/** Make sure some backend is chosen (the default one), for code paths that need tensors. */
export async function ensureBackend(): Promise<BackendInfo> {
  return current ?? useBackend();
}
