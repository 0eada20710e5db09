// The WebGPU backend: @tensorflow/tfjs-backend-webgpu on Dawn (the optional `webgpu` npm package, which ships a
// prebuilt dawn.node). Three things make it usable from cellrl in Node:
// - the adapter: Dawn's default (Vulkan / Metal / D3D12) first; when forced and none exists, Dawn's OpenGL backend in
//   compatibility mode (on a machine without a GPU that is Mesa's llvmpipe: Debian bookworm's lavapipe, Mesa 22.3,
//   lacks two Vulkan features Dawn requires);
// - synchronous reads: tfjs-webgpu's readSync needs OffscreenCanvas, which Node lacks, and cellrl reads with
//   dataSync (logprobs, generate, loss metrics). dawn.node resolves a buffer map only when its event tick runs, and it
//   schedules that tick through globalThis.setImmediate; we keep a handle on each such tick so readSync can run it
//   in place until the staging buffer is mapped (each tick runs once: the queued one becomes a no-op);
// - auto selection only for a hardware adapter on a machine with a GPU device node: probing Dawn prints driver
//   warnings on stderr, and a software adapter is slower than wasm.
import * as tf from "@tensorflow/tfjs";
import { existsSync, readdirSync } from "node:fs";
import { fail } from "./errors.js";

/** The adapter the WebGPU backend runs on. */
export interface WebGpuAdapter {
  /** Dawn's description, e.g. "OpenGL version 4.5 (Core Profile) Mesa 22.3.6" or the GPU's name. */
  description: string;
  /** Driver/device id string from Dawn, e.g. "llvmpipe-llvm-15-0-6-256-bits-". */
  device: string;
  /** A CPU rasterizer (llvmpipe, lavapipe, SwiftShader): correct but slower than wasm. */
  software: boolean;
  /** "core" (Vulkan, Metal, D3D12) or "compatibility" (Dawn's OpenGL backend). */
  featureLevel: "core" | "compatibility";
}

type Probe = { adapter: WebGpuAdapter; reason: null } | { adapter: null; reason: string };

const PKGS = ["webgpu", "@tensorflow/tfjs-backend-webgpu"];
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;
let probe: Promise<Probe> | null = null;
let withFallback = false;

/** Pending dawn.node event ticks (native, unnamed functions handed to setImmediate), each wrapped to run once. */
const ticks = new Set<() => void>();
let hooked = false;

function hookTicks(): void {
  if (hooked) return;
  hooked = true;
  const real = globalThis.setImmediate;
  const isDawnTick = (fn: unknown): fn is (...a: unknown[]) => void =>
    typeof fn === "function" &&
    fn.name === "" &&
    Object.prototype.hasOwnProperty.call(fn, "prototype") &&
    /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
  const hooked_ = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (!isDawnTick(fn)) return (real as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      ticks.delete(once);
      fn(...args);
    };
    ticks.add(once);
    return real(once);
  };
  Object.assign(hooked_, real); // keeps setImmediate[util.promisify.custom] and friends
  globalThis.setImmediate = hooked_ as typeof setImmediate;
}

/** A GPU device node exists (Linux render node or NVIDIA device); elsewhere (macOS, Windows) assume one may. */
function gpuDeviceNode(): string | null {
  if (process.platform !== "linux") return process.platform;
  try {
    const dri = existsSync("/dev/dri") ? readdirSync("/dev/dri").find((f) => f.startsWith("renderD")) : undefined;
    if (dri) return `/dev/dri/${dri}`;
  } catch {
    // unreadable /dev/dri: treat as absent
  }
  return existsSync("/dev/nvidia0") ? "/dev/nvidia0" : null;
}

type Gpu = { requestAdapter(o?: object): Promise<Adapter | null> };
type Adapter = {
  info: { description?: string; device?: string; architecture?: string; vendor?: string; isFallbackAdapter?: boolean };
  limits: Record<string, number>;
  requestDevice(d?: object): Promise<unknown>;
};

async function findAdapter(
  create: (o: string[]) => Gpu,
  fallback: boolean,
): Promise<{ gpu: Gpu; adapter: Adapter; featureLevel: "core" | "compatibility" } | null> {
  const gpu = create([]);
  const core = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (core) return { gpu, adapter: core, featureLevel: "core" };
  if (!fallback) return null;
  // Headless EGL for Dawn's GL backend; set only while the adapter is created (EGL reads it at initialisation).
  const before = process.env.EGL_PLATFORM;
  if (before === undefined) process.env.EGL_PLATFORM = "surfaceless";
  try {
    const gl = create(["backend=opengl"]);
    const compat = await gl.requestAdapter({ featureLevel: "compatibility" });
    return compat ? { gpu: gl, adapter: compat, featureLevel: "compatibility" } : null;
  } finally {
    if (before === undefined) delete process.env.EGL_PLATFORM;
  }
}

async function start(fallback: boolean): Promise<Probe> {
  for (const pkg of PKGS)
    try {
      require.resolve(pkg);
    } catch {
      return { adapter: null, reason: `${pkg} is not installed (optional dependency of cellrl)` };
    }
  hookTicks();
  let mod: { create: (o: string[]) => Gpu; globals: Record<string, unknown> };
  try {
    const spec = "webgpu"; // a variable: the optional package's types must not be needed to compile
    mod = (await import(spec)) as typeof mod;
  } catch (e) {
    return { adapter: null, reason: `webgpu's dawn.node failed to load: ${(e as Error).message.split("\n")[0]}` };
  }
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v; // GPUBufferUsage, GPUMapMode, ...
  const found = await findAdapter(mod.create, fallback);
  if (!found)
    return {
      adapter: null,
      reason: fallback
        ? "Dawn found no adapter (tried Vulkan/Metal/D3D12, then OpenGL in compatibility mode; without a GPU install " +
          "Mesa: Debian libegl-mesa0 libgl1-mesa-dri)"
        : "Dawn found no Vulkan/Metal/D3D12 adapter",
    };
  const { gpu, adapter, featureLevel } = found;
  const info = adapter.info;
  const description = info.description || [info.vendor, info.architecture].filter(Boolean).join(" ") || "unknown";
  const device = info.device ?? "";
  const software = info.isFallbackAdapter === true || SOFTWARE.test(`${description} ${device} ${info.architecture}`);
  // tfjs-backend-webgpu registers its factory only when navigator.gpu exists; we then register ours on this adapter.
  if (!g.navigator) Object.defineProperty(g, "navigator", { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator as object, "gpu", { value: gpu, configurable: true, writable: true });
  const wg = require("@tensorflow/tfjs-backend-webgpu") as {
    WebGPUBackend: { prototype: object; new (device: unknown, info: unknown): tf.KernelBackend };
  };
  patchReadSync(wg.WebGPUBackend.prototype as BackendInternals);
  chunkAddN();
  if (tf.findBackendFactory("webgpu")) tf.removeBackend("webgpu");
  tf.registerBackend("webgpu", async () => {
    const L = adapter.limits;
    const keys = [
      "maxComputeWorkgroupStorageSize",
      "maxComputeWorkgroupsPerDimension",
      "maxStorageBufferBindingSize",
      "maxBufferSize",
      "maxComputeWorkgroupSizeX",
      "maxComputeInvocationsPerWorkgroup",
      "maxStorageBuffersPerShaderStage",
    ];
    const dev = await adapter.requestDevice({ requiredLimits: Object.fromEntries(keys.map((k) => [k, L[k]])) });
    return new wg.WebGPUBackend(dev, info);
  });
  return { adapter: { description, device, software, featureLevel }, reason: null };
}

interface BackendInternals {
  tensorMap: { get(id: object): { values: unknown; dtype: string; resource: unknown } };
  bufferManager: { acquireBuffer(size: number, usage: number): StagingBuffer; releaseBuffer(b: StagingBuffer): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  commandEncoder: { copyBufferToBuffer(a: unknown, ao: number, b: unknown, bo: number, size: number): void };
  submitQueue(): void;
  convertAndCacheOnCPU(id: object, v: unknown): unknown;
  readSync(id: object): unknown;
}
interface StagingBuffer {
  mapAsync(mode: number): Promise<void>;
  mapState: string;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

function patchReadSync(proto: BackendInternals): void {
  const stock = proto.readSync;
  if ((stock as { cellrl?: boolean }).cellrl) return;
  const readSync = function (this: BackendInternals, dataId: object): unknown {
    const data = this.tensorMap.get(dataId);
    if (data.values != null || data.dtype === "string" || data.dtype === "complex64") return stock.call(this, dataId);
    const buffer = data.resource as { size: number };
    const G = globalThis as unknown as { GPUBufferUsage: Record<string, number>; GPUMapMode: Record<string, number> };
    const staging = this.bufferManager.acquireBuffer(
      buffer.size,
      G.GPUBufferUsage.COPY_DST | G.GPUBufferUsage.MAP_READ,
    );
    this.ensureCommandEncoderReady();
    this.endComputePassEncoder();
    this.commandEncoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
    this.submitQueue();
    let error: unknown = null;
    staging.mapAsync(G.GPUMapMode.READ).catch((e) => (error = e));
    while (staging.mapState === "pending" && error === null) {
      const tick = ticks.values().next().value;
      if (!tick)
        fail(
          "backend",
          "webgpu.readSync: no Dawn event tick is pending, so the GPU read cannot complete synchronously " +
            "(got mapState pending; expected a tick queued by dawn.node). Read with await tensor.data() instead.",
        );
      tick();
    }
    if (staging.mapState !== "mapped")
      fail("backend", `webgpu.readSync: mapping the staging buffer failed (got ${String(error ?? staging.mapState)}).`);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    this.bufferManager.releaseBuffer(staging);
    const vals = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype as tf.DataType);
    this.convertAndCacheOnCPU(dataId, vals);
    return vals;
  };
  (readSync as { cellrl?: boolean }).cellrl = true;
  proto.readSync = readSync;
}

/**
 * tfjs-webgpu's AddN binds every input as a storage buffer; the gradient of a weight used in many places sums more
 * inputs than a shader stage may bind (8 by default, 16 on llvmpipe). Sum in groups that fit, then sum the groups.
 */
function chunkAddN(): void {
  const stock = tf.getKernel("AddN", "webgpu");
  if (!stock || (stock.kernelFunc as { cellrl?: boolean }).cellrl) return;
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const device = (backend as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device;
    const fit = Math.max(2, device.limits.maxStorageBuffersPerShaderStage - 1); // one binding is the output
    let list = inputs as unknown as tf.TensorInfo[];
    const temps: tf.TensorInfo[] = [];
    while (list.length > fit) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < list.length; i += fit) {
        const part = list.slice(i, i + fit);
        if (part.length === 1) next.push(part[0]);
        else {
          const sum = stock.kernelFunc({ inputs: part as unknown as tf.NamedTensorInfoMap, backend, attrs });
          next.push(sum as tf.TensorInfo);
          temps.push(sum as tf.TensorInfo);
        }
      }
      list = next;
    }
    const out = stock.kernelFunc({ inputs: list as unknown as tf.NamedTensorInfoMap, backend, attrs });
    for (const t of temps) (backend as tf.KernelBackend).disposeData(t.dataId);
    return out;
  };
  (kernelFunc as { cellrl?: boolean }).cellrl = true;
  tf.unregisterKernel("AddN", "webgpu");
  tf.registerKernel({ ...stock, kernelFunc });
}

/**
 * Load Dawn, find an adapter and register tfjs's "webgpu" backend on it (cached: Dawn is loaded once per process).
 * `fallback` also tries Dawn's OpenGL backend in compatibility mode (software llvmpipe on a machine without a GPU).
 * Returns the adapter, or why there is none; `useBackend({ force: "webgpu" })` is the user-facing way in.
 */
export async function startWebGpu(fallback: boolean): Promise<Probe> {
  if (probe && (withFallback || !fallback)) return probe;
  const prev = probe;
  probe = (async () => {
    const first = prev ? await prev : null;
    if (first?.adapter) return first;
    if (first && /not installed|failed to load/.test(first.reason)) return first;
    return start(fallback);
  })();
  withFallback = withFallback || fallback;
  return probe;
}

/** Why auto selection passes over WebGPU without loading Dawn, or null when it should probe. */
export function webGpuAutoSkip(): string | null {
  for (const pkg of PKGS)
    try {
      require.resolve(pkg);
    } catch {
      return `${pkg} is not installed (optional dependency of cellrl)`;
    }
  if (!gpuDeviceNode())
    return 'no GPU device node (/dev/dri/renderD*, /dev/nvidia0), so Dawn was not probed; force: "webgpu" also uses a software adapter (llvmpipe)';
  return null;
}
