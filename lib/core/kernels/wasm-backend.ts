import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TensorInfo } from "@tensorflow/tfjs";
import { withSharedMemory } from "./shared-memory.js";

// Node has WebAssembly at runtime, but its types live in lib.dom, which this project does not load: declare the
// few members used here.
/** A WebAssembly.Memory (the tfjs-wasm heap). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
type WasmModule = object;
const WA = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => WasmModule;
      Instance: new (mod: WasmModule, imports: object) => { exports: object };
      validate(bytes: Uint8Array): boolean;
    };
  }
).WebAssembly;

/**
 * The internal fields of tfjs-backend-wasm 4.22 that the fast kernels use (the version is pinned in package.json
 * because these are not public API): the emscripten module with its heap and allocator, and the tensor table.
 */
export interface WasmBackendInternals {
  wasm: {
    asm: { memory: WasmMemory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } | undefined };
  makeOutput(shape: number[], dtype: string): TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The exports of kernels.as (see that file for the argument meanings). */
export interface KernelModule {
  bmm(
    a: number,
    b: number,
    c: number,
    M: number,
    N: number,
    K: number,
    transA: number,
    transB: number,
    strideA: number,
    strideB: number,
    scratch: number,
    kcMax: number,
    ncMax: number,
    t0: number,
    t1: number,
    i0: number,
    i1: number,
    j0: number,
    j1: number,
  ): void;
  binary(
    op: number,
    x: number,
    y: number,
    out: number,
    d0: number,
    d1: number,
    d2: number,
    xs0: number,
    xs1: number,
    xs2: number,
    ys0: number,
    ys1: number,
    ys2: number,
  ): void;
  expf(x: number, out: number, n: number): void;
  rowSum(x: number, out: number, rows: number, cols: number, scale: number): void;
  colSum(x: number, out: number, rows: number, cols: number, ld: number, scale: number): void;
  transposeRuns(
    x: number,
    out: number,
    d0: number,
    d1: number,
    d2: number,
    s0: number,
    s1: number,
    s2: number,
    run: number,
  ): void;
}

/** The compiled kernel module, which build it is, and where its scratch buffer lives in the tfjs heap. */
export interface KernelInstance {
  exports: KernelModule;
  fma: boolean;
  /** The compiled module (the shared-memory variant when the heap is shared), for kernel threads to instantiate. */
  module: WasmModule;
  scratchPtr: number;
  scratchBytes: number;
}

const instances = new WeakMap<WasmMemory, KernelInstance>();
let fmaModule: WasmModule | null | undefined;
let simdModule: WasmModule | undefined;
// The same builds with their memory import declared shared, for a shared tfjs heap (compiled on first use).
let fmaShared: WasmModule | null | undefined;
let simdShared: WasmModule | undefined;

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error(`core.kernels: tensor ${t.shape} has no data on the wasm backend (disposed?).`);
  return d.memoryOffset;
}

/** Find a kernel binary next to this file: lib/core/kernels/wasm (tsx) or dist/core/kernels/wasm (compiled). */
export function wasmPath(file: string): string {
  const candidates = [
    join(__dirname, "wasm", file),
    join(__dirname, "..", "..", "..", "lib", "core", "kernels", "wasm", file),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`${file} not found (looked in ${candidates.join(", ")}); run \`npm run build:kernels\``);
  return found;
}

function compileModules(): void {
  if (simdModule) return;
  simdModule = new WA.Module(readFileSync(wasmPath("kernels-simd.wasm")));
  fmaModule = null;
  try {
    // Relaxed SIMD (FMA) is behind a flag in Node 20's V8; setting it before compiling works at runtime and is
    // default-on in newer V8. It only affects modules compiled after this call.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
    const bytes = readFileSync(wasmPath("kernels-fma.wasm"));
    if (WA.validate(bytes)) fmaModule = new WA.Module(bytes);
  } catch {
    fmaModule = null;
  }
}

/** Which builds this process can run: "fma" (relaxed SIMD) or "simd". Throws when the binaries are missing. */
export function availableBuilds(): ("fma" | "simd")[] {
  compileModules();
  return fmaModule ? ["fma", "simd"] : ["simd"];
}

/**
 * The kernel module instantiated against this backend's heap (one instance per WebAssembly.Memory). `prefer` picks
 * the build; the first call fixes it for that heap.
 */
export function kernelInstance(backend: WasmBackendInternals, prefer: "fma" | "simd" = "fma"): KernelInstance {
  const memory = backend.wasm.asm.memory;
  let inst = instances.get(memory);
  if (inst) return inst;
  compileModules();
  const useFma = prefer === "fma" && fmaModule != null;
  let mod = useFma ? fmaModule! : simdModule!;
  if (memory.buffer instanceof SharedArrayBuffer) {
    if (useFma) fmaShared ??= new WA.Module(withSharedMemory(readFileSync(wasmPath("kernels-fma.wasm"))));
    else simdShared ??= new WA.Module(withSharedMemory(readFileSync(wasmPath("kernels-simd.wasm"))));
    mod = useFma ? fmaShared! : simdShared!;
  }
  const instance = new WA.Instance(mod, { env: { memory } });
  inst = {
    exports: instance.exports as unknown as KernelModule,
    fma: useFma,
    module: mod,
    scratchPtr: 0,
    scratchBytes: 0,
  };
  instances.set(memory, inst);
  return inst;
}

/** Forget the instance for this heap so the next kernelInstance() call can choose another build (tests, bench). */
export function resetKernelInstance(backend: WasmBackendInternals): void {
  const memory = backend.wasm.asm.memory;
  const inst = instances.get(memory);
  if (inst && inst.scratchPtr) backend.wasm._free(inst.scratchPtr);
  instances.delete(memory);
}

/** A scratch buffer of at least `bytes` in the tfjs heap, kept per heap and grown on demand (never per call). */
export function scratch(backend: WasmBackendInternals, inst: KernelInstance, bytes: number): number {
  if (inst.scratchBytes >= bytes) return inst.scratchPtr;
  if (inst.scratchPtr) backend.wasm._free(inst.scratchPtr);
  const size = Math.max(bytes, 64 * 1024);
  inst.scratchPtr = backend.wasm._malloc(size) >>> 0;
  inst.scratchBytes = size;
  return inst.scratchPtr;
}
