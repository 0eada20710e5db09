// Kernel threads in one process: worker threads that run cellrl's SIMD kernels on the tfjs-wasm heap itself (a shared
// WebAssembly.Memory, see shared-memory.ts), each on its own part of one op's output. The calling thread takes part 0
// and blocks until the others are done, so to tfjs (and to everything above it) an op is still one synchronous call;
// nothing is copied. Parts are cut so that every output element is computed by the same instructions in the same
// order as on one thread: results are bit-identical for any thread count, so a seed replays exactly.
//
// Hand-off is a few words of a SharedArrayBuffer: a generation counter the workers watch (spinning briefly, then
// Atomics.wait), per-worker argument slots, and a pending counter the caller waits on. Only this thread allocates in
// the heap, and never during an op, so the heap cannot grow while workers read it.
import { Worker } from "node:worker_threads";
import type { KernelModule, WasmMemory } from "./wasm-backend.js";

/** The kernel exports a thread can run, by op code (the order is the wire format between threads). */
export const THREAD_OPS = ["bmm", "binary", "expf", "rowSum", "colSum", "transposeRuns"] as const;
/** One of the kernel exports that can be split over threads. */
export type ThreadOp = (typeof THREAD_OPS)[number];

/** Tuning of the kernel threads. */
export interface KernelThreadTuning {
  /** Below this many multiply-adds a matmul runs on one thread (a hand-off costs a few microseconds). */
  minMatmulWork: number;
  /** Below this many elements an elementwise op or reduction runs on one thread. */
  minElements: number;
  /** Polls of the generation word before a worker sleeps in Atomics.wait (about 10 ns each). */
  spin: number;
}

/** Default tuning, measured on a 2-core AMD EPYC (`npm run bench`). */
export const threadTuning: KernelThreadTuning = { minMatmulWork: 1 << 18, minElements: 1 << 14, spin: 2000000 };

// Control words (Int32) and argument slots (Float64: pointers are unsigned 32-bit, scales are floats; both exact).
const GEN = 0;
const PENDING = 1;
const ERROR = 2;
const STOP = 3;
const ERROR_TEXT = 64; // bytes 256.. of the control buffer: the first failure's message, one char code per Int32
const ERROR_CHARS = 448;
const SLOT = 24; // Float64 words per worker: op code + up to 19 arguments (bmm has 19)
const HANG_MS = 120_000;

/** What a kernel-thread worker receives at start (see thread-entry.ts). */
export interface ThreadInit {
  rank: number;
  memory: WasmMemory;
  module: object;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  spin: number;
}

interface Pool {
  memory: WasmMemory;
  module: object;
  workers: Worker[];
  ctl: Int32Array;
  slots: Float64Array;
  scratch: { ptr: number; bytes: number }[];
}

let pool: Pool | null = null;

let splitOps = 0;

/** How many ops have been split over threads since the process started (tests and the bench read it). */
export function kernelThreadSplits(): number {
  return splitOps;
}

/** Threads an op can use now: 1 when kernel threads are off. */
export function kernelThreadCount(): number {
  return pool ? pool.workers.length + 1 : 1;
}

function workerPath(): { file: string; eval: boolean } {
  if (__filename.endsWith(".ts")) {
    // Under tsx, workers do not inherit its loader hooks: register the CommonJS one, then load the entry.
    const api = require.resolve("tsx/cjs/api");
    const entry = JSON.stringify(__dirname + "/thread-entry.ts");
    return { file: `require(${JSON.stringify(api)}).register(); require(${entry});`, eval: true };
  }
  return { file: __dirname + "/thread-entry.js", eval: false };
}

/**
 * Start `threads - 1` workers on this heap with the kernel module `module` (compiled for a shared memory). Resolves
 * when every worker has instantiated the module; a running pool is stopped first.
 */
export async function startKernelThreads(memory: WasmMemory, module: object, threads: number): Promise<void> {
  if (pool && pool.memory === memory && pool.module === module && pool.workers.length + 1 === threads) return;
  stopKernelThreads();
  if (threads <= 1) return;
  if (!(memory.buffer instanceof SharedArrayBuffer))
    throw new Error("the tfjs-wasm heap is not shared (the wasm backend was started outside cellrl's useBackend)");
  const control = new SharedArrayBuffer(4096);
  const slots = new SharedArrayBuffer((threads - 1) * SLOT * 8);
  const where = workerPath();
  const workers: Worker[] = [];
  const ready = [];
  for (let rank = 1; rank < threads; rank++) {
    const workerData: ThreadInit = { rank, memory, module, control, slots, spin: threadTuning.spin };
    const w = new Worker(where.file, { eval: where.eval, workerData });
    workers.push(w);
    ready.push(
      new Promise<void>((resolve, reject) => {
        w.once("message", (m: { ready?: boolean; error?: string }) =>
          m.ready ? resolve() : reject(new Error(`kernel thread ${rank} failed to start: ${m.error}`)),
        );
        w.once("error", reject);
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  // The threads sleep in Atomics.wait between ops; they must not keep a finished script's process alive.
  for (const w of workers) w.unref();
  pool = {
    memory,
    module,
    workers,
    ctl: new Int32Array(control),
    slots: new Float64Array(slots),
    scratch: workers.map(() => ({ ptr: 0, bytes: 0 })),
  };
}

/** Stop the kernel threads (ops run on the calling thread again; the threads exit at their next wake-up). */
export function stopKernelThreads(): void {
  const p = pool;
  pool = null;
  if (!p) return;
  Atomics.store(p.ctl, STOP, 1);
  Atomics.add(p.ctl, GEN, 1);
  Atomics.notify(p.ctl, GEN);
  for (const w of p.workers) void w.terminate();
}

/**
 * Scratch space in the heap for worker `rank` (1-based) of at least `bytes`, grown with `malloc` / `free` on this
 * thread before an op is handed out (never during one).
 */
export function workerScratch(
  rank: number,
  bytes: number,
  malloc: (n: number) => number,
  free: (p: number) => void,
): number {
  const s = pool!.scratch[rank - 1];
  if (s.bytes < bytes) {
    if (s.ptr) free(s.ptr);
    s.bytes = Math.max(bytes, 64 * 1024);
    s.ptr = malloc(s.bytes) >>> 0;
  }
  return s.ptr;
}

/** Forget the workers' scratch pointers (their heap is being reset). */
export function dropWorkerScratch(free: (p: number) => void): void {
  if (!pool) return;
  for (const s of pool.scratch) if (s.ptr) free(s.ptr);
  pool.scratch = pool.scratch.map(() => ({ ptr: 0, bytes: 0 }));
}

function readError(ctl: Int32Array): string {
  let s = "";
  for (let i = 0; i < ERROR_CHARS; i++) {
    const c = Atomics.load(ctl, ERROR_TEXT + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Run `op` with parts[0] on this thread (through `exports`) and parts[r] on worker r, and return when all are done.
 * Each part is the op's full argument list. With one part (or no pool) it is a plain call.
 */
export function runParts(exports: KernelModule, op: ThreadOp, parts: number[][]): void {
  const fn = exports[op] as unknown as (...args: number[]) => void;
  const p = pool;
  if (!p || parts.length === 1) {
    for (const args of parts) fn(...args);
    return;
  }
  if (parts.length > p.workers.length + 1)
    throw new Error(`core.kernels: ${parts.length} parts for ${p.workers.length + 1} threads`);
  splitOps++;
  const code = THREAD_OPS.indexOf(op);
  const { ctl, slots } = p;
  for (let w = 0; w < p.workers.length; w++) {
    const base = w * SLOT;
    const args = parts[w + 1];
    if (!args) {
      slots[base] = -1; // nothing for this worker in this op
      continue;
    }
    slots[base] = code;
    for (let i = 0; i < args.length; i++) slots[base + 1 + i] = args[i];
  }
  Atomics.store(ctl, PENDING, p.workers.length);
  Atomics.add(ctl, GEN, 1);
  Atomics.notify(ctl, GEN);
  let failure: unknown = null;
  try {
    fn(...parts[0]);
  } catch (e) {
    failure = e; // still wait: the workers are writing into the same heap
  }
  let spins = 0;
  const start = Date.now();
  for (;;) {
    const left = Atomics.load(ctl, PENDING);
    if (left === 0) break;
    if (++spins < threadTuning.spin) continue;
    Atomics.wait(ctl, PENDING, left, 50);
    if (Date.now() - start > HANG_MS)
      throw new Error(
        `core.kernels: a kernel thread did not finish ${op} in ${HANG_MS / 1000} s (it may have died). ` +
          `Restart the kernel, or run with useBackend({ threads: 1 }).`,
      );
  }
  if (Atomics.load(ctl, ERROR)) {
    const why = readError(ctl);
    Atomics.store(ctl, ERROR, 0);
    Atomics.store(ctl, ERROR_TEXT, 0);
    throw new Error(`core.kernels: kernel thread failed in ${op}: ${why}`);
  }
  if (failure) throw failure;
}

/** Error-reporting layout shared with thread-entry.ts. */
export const CONTROL = { GEN, PENDING, ERROR, STOP, ERROR_TEXT, ERROR_CHARS, SLOT };

/**
 * [start, end) ranges cutting `n` into at most `parts` pieces whose inner boundaries are multiples of `align`
 * (empty pieces are dropped).
 * @example splitRange(10, 2, 4) // [[0, 4], [4, 10]]
 */
export function splitRange(n: number, parts: number, align: number): [number, number][] {
  const units = Math.ceil(n / align);
  const k = Math.max(1, Math.min(parts, units));
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const s = Math.min(n, Math.round((i * units) / k) * align);
    const e = i === k - 1 ? n : Math.min(n, Math.round(((i + 1) * units) / k) * align);
    if (e > s) out.push([s, e]);
  }
  return out;
}
