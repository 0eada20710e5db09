// Kernel threads in one process: worker threads that run cellrl's SIMD kernels on the tfjs-wasm heap itself (a shared
// WebAssembly.Memory, see shared-memory.ts), each on its own part of one op's output. The calling thread takes part 0
// and blocks until the others are done, so to tfjs (and to everything above it) an op is still one synchronous call;
// nothing is copied. Parts are cut so that every output element is computed by the same instructions in the same
// order as on one thread: results are bit-identical for any thread count, so a seed replays exactly.
//
// Hand-off is a few words of a SharedArrayBuffer: a generation counter the workers watch (spinning briefly, then
// Atomics.wait), and per worker an argument slot and a state word. A part is claimed with compareExchange, either by
// its worker or, once the caller has finished its own part, by the caller itself: a worker that is asleep or has no
// core (a busy machine) costs a wake-up call, never a wait, so an op is never slower than on one thread by more than
// the hand-off. Only this thread allocates in the heap, and never during an op, so the heap cannot grow under a part.
import { Worker } from "node:worker_threads";
import type { KernelModule, WasmMemory } from "./wasm-backend.js";

/** The kernel exports a thread can run, by op code (the order is the wire format between threads). */
export const THREAD_OPS = ["bmm", "binary", "expf", "rowSum", "colSum", "transposeRuns"] as const;
/** One of the kernel exports that can be split over threads. */
export type ThreadOp = (typeof THREAD_OPS)[number];

/** Tuning of the kernel threads. */
export interface KernelThreadTuning {
  /** Fewest multiply-adds in one chunk of a matmul (a smaller matmul runs on one thread: a hand-off costs microseconds). */
  minMatmulWork: number;
  /** Fewest elements in one chunk of an elementwise op, reduction or transpose. */
  minElements: number;
  /**
   * Microseconds a worker keeps polling for the next op before it sleeps in Atomics.wait (a sleeping worker takes
   * tens of microseconds to wake, longer than the gaps between the ops of a decode step).
   */
  spinMicros: number;
}

/** Default tuning, measured on a 2-core AMD EPYC (`npm run bench`). */
export const threadTuning: KernelThreadTuning = { minMatmulWork: 1 << 17, minElements: 1 << 13, spinMicros: 300 };

// Control words (Int32) and the Float64 slots (pointers are unsigned 32-bit, scales are floats; both exact there).
// Words written by different threads sit on different 64-byte cache lines, so a worker polling GEN does not slow down
// the claims on NEXT.
const GEN = 0; // bumped for every op: wakes the workers
const STOP = 1;
const NEXT = 16; // (op tag << 16) | next unclaimed chunk; chunk index CLOSED while an op is being set up
const COUNT = 17; // chunks in the current op
const FINISHED = 32; // chunks of the current op that have run
const ERROR = 48; // 1 once a chunk failed; its message is at ERROR_TEXT
const CLOSED = 0xffff;
const ERROR_TEXT = 64; // the first failure's message, one char code per Int32 (to the end of the 2 KiB buffer)
const ERROR_CHARS = 448; // 64 + 448 words = 2 KiB
const HEAD = 8; // Float64 words before the chunks: each worker's scratch pointer (bmm's packing buffer)
const SLOT = 24; // Float64 words per chunk: op code + up to 19 arguments (bmm has 19)
const MAX_CHUNKS = 64;
const BMM = 0; // bmm's argument 10 is the packing scratch, which each thread has its own of
const HANG_MS = 120_000;
const CHUNKS_PER_THREAD = 4;

/** What a kernel-thread worker receives at start (see thread-entry.ts). */
export interface ThreadInit {
  rank: number;
  memory: WasmMemory;
  module: object;
  control: SharedArrayBuffer;
  slots: SharedArrayBuffer;
  spinMicros: number;
}

interface Pool {
  memory: WasmMemory;
  module: object;
  workers: Worker[];
  ctl: Int32Array;
  slots: Float64Array;
  scratch: { ptr: number; bytes: number }[];
  tag: number;
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
  const control = new SharedArrayBuffer(2048);
  Atomics.store(new Int32Array(control), NEXT, CLOSED);
  const slots = new SharedArrayBuffer((HEAD + MAX_CHUNKS * SLOT) * 8);
  const where = workerPath();
  const workers: Worker[] = [];
  const ready = [];
  for (let rank = 1; rank < threads; rank++) {
    const workerData: ThreadInit = { rank, memory, module, control, slots, spinMicros: threadTuning.spinMicros };
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
    tag: 0,
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
 * Make every worker's scratch space in the heap at least `bytes` (bmm packs B there), grown with `malloc` / `free` on
 * this thread before an op is handed out, never during one. Workers read their pointer from the slots' head.
 */
export function ensureWorkerScratch(bytes: number, malloc: (n: number) => number, free: (p: number) => void): void {
  const p = pool;
  if (!p) return;
  p.scratch.forEach((s, w) => {
    if (s.bytes >= bytes) return;
    if (s.ptr) free(s.ptr);
    s.bytes = Math.max(bytes, 64 * 1024);
    s.ptr = malloc(s.bytes) >>> 0;
    p.slots[w] = s.ptr;
  });
}

/** Forget the workers' scratch pointers (their heap is being reset). */
export function dropWorkerScratch(free: (p: number) => void): void {
  if (!pool) return;
  for (const s of pool.scratch) if (s.ptr) free(s.ptr);
  pool.scratch = pool.scratch.map(() => ({ ptr: 0, bytes: 0 }));
  pool.slots.fill(0, 0, HEAD);
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
 * Claim chunks of the current op (compareExchange on NEXT) and run them until none is left; count each one in
 * FINISHED. The calling thread and the workers all run this, so a worker that wakes late only helps with fewer
 * chunks. `scratch` (a worker's packing buffer) replaces the chunk's own for ops that take one; 0 keeps it.
 * A failing chunk records the first message (read by runParts) and still counts as finished.
 */
export function drainChunks(
  ctl: Int32Array,
  slots: Float64Array,
  fns: ((...a: number[]) => void)[],
  who: string,
  scratch: () => number,
): number {
  let ran = 0;
  for (;;) {
    const v = Atomics.load(ctl, NEXT);
    const i = v & 0xffff;
    if (i >= Atomics.load(ctl, COUNT)) return ran;
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    const b = HEAD + i * SLOT;
    const s = slots;
    const code = s[b];
    const own = code === BMM ? scratch() : 0;
    try {
      fns[code](s[b + 1], s[b + 2], s[b + 3], s[b + 4], s[b + 5], s[b + 6], s[b + 7], s[b + 8], s[b + 9], s[b + 10],
        own || s[b + 11], s[b + 12], s[b + 13], s[b + 14], s[b + 15], s[b + 16], s[b + 17], s[b + 18], s[b + 19]); // prettier-ignore
    } catch (e) {
      if (Atomics.compareExchange(ctl, ERROR, 0, 1) === 0) {
        const text = `chunk ${i} on ${who}: ${String((e as Error)?.message ?? e)}`.slice(0, ERROR_CHARS - 1);
        for (let c = 0; c < text.length; c++) Atomics.store(ctl, ERROR_TEXT + c, text.charCodeAt(c));
        Atomics.store(ctl, ERROR_TEXT + text.length, 0);
      }
    }
    ran++;
    if (Atomics.add(ctl, FINISHED, 1) + 1 === Atomics.load(ctl, COUNT)) Atomics.notify(ctl, FINISHED);
  }
}

type Fn = (...args: number[]) => void;
const exportFns = new WeakMap<KernelModule, Fn[]>();

/**
 * Run `op` over `chunks` (each the op's full argument list, cut so that any thread may run any chunk), on this
 * thread and the kernel threads, and return when all are done. With one chunk (or no pool) it is a plain call.
 */
export function runParts(kernels: KernelModule, op: ThreadOp, chunks: number[][]): void {
  const fn = kernels[op] as unknown as (...args: number[]) => void;
  const p = pool;
  if (!p || chunks.length === 1) {
    for (const args of chunks) fn(...args);
    return;
  }
  if (chunks.length > MAX_CHUNKS) throw new Error(`core.kernels: ${chunks.length} chunks (at most ${MAX_CHUNKS})`);
  splitOps++;
  const code = THREAD_OPS.indexOf(op);
  const { ctl, slots } = p;
  // Close the queue under a new tag before rewriting it: a late worker's claim of the previous op then fails.
  p.tag = (p.tag + 1) & 0x7fff;
  Atomics.store(ctl, NEXT, (p.tag << 16) | CLOSED);
  chunks.forEach((args, c) => {
    const b = HEAD + c * SLOT;
    slots[b] = code;
    for (let i = 0; i < args.length; i++) slots[b + 1 + i] = args[i];
  });
  Atomics.store(ctl, COUNT, chunks.length);
  Atomics.store(ctl, FINISHED, 0);
  Atomics.store(ctl, NEXT, p.tag << 16);
  Atomics.add(ctl, GEN, 1);
  Atomics.notify(ctl, GEN);
  let fns = exportFns.get(kernels);
  if (!fns) exportFns.set(kernels, (fns = THREAD_OPS.map((name) => kernels[name] as unknown as Fn)));
  drainChunks(ctl, slots, fns, "the calling thread", () => 0);
  const start = Date.now();
  // Only chunks a worker is running are left: they finish within about one chunk's time, so poll, then sleep.
  let spins = 0;
  for (;;) {
    const done = Atomics.load(ctl, FINISHED);
    if (done === chunks.length) break;
    if (++spins < 100_000) continue;
    Atomics.wait(ctl, FINISHED, done, 50);
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
}

/** Error-reporting layout shared with thread-entry.ts. */
export const CONTROL = { GEN, STOP };

/**
 * How many chunks to cut an op of `work` units into: a few per thread so a late worker still finds some, none
 * smaller than `minChunk` units; 1 without kernel threads.
 * @example chunkCount(1e6, 1e5) // 8 with 2 threads
 */
export function chunkCount(work: number, minChunk: number): number {
  const threads = kernelThreadCount();
  if (threads === 1) return 1;
  return Math.max(1, Math.min(threads * CHUNKS_PER_THREAD, Math.floor(work / minChunk), MAX_CHUNKS));
}

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
