// Data-parallel worker threads: each runs its own tfjs backend (its own wasm heap, so both cores compute), loads one
// module, and can average tensors with the others through a SharedArrayBuffer (see all-reduce.ts).
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { createAllReduce, type AllReduce } from "./all-reduce.js";

/** What a worker module's functions receive as their second argument. */
export interface WorkerContext {
  rank: number;
  world: number;
  /** The tfjs backend the worker runs on ("wasm" unless tfjs-node is installed). */
  backend: string;
  /** Averaging across workers; null when the group was started with reduceFloats: 0. */
  allReduce: AllReduce | null;
}

/** Options of workerGroup. */
export interface WorkerGroupOptions {
  /** Number of worker threads. Defaults to 2 (one per core of a laptop-class 2-core CPU is the measured sweet spot). */
  workers?: number;
  /** Most floats one all-reduce exchanges (e.g. the model's parameter count); 0 disables it. Defaults to 0. */
  reduceFloats?: number;
  /** Use cellrl's fast wasm kernels in the workers. Defaults to true. */
  fastKernels?: boolean;
}

/** Default options of workerGroup. */
export const defaults: Required<WorkerGroupOptions> = { workers: 2, reduceFloats: 0, fastKernels: true };

/** A running group of workers; close() ends the threads. */
export interface WorkerGroup {
  size: number;
  /** Call `fn` of the module in every worker with the same argument; results by rank. */
  all<T = unknown>(fn: string, arg?: unknown): Promise<T[]>;
  /** Call `fn` in every worker with its own argument args[rank]; results by rank. */
  each<T = unknown>(fn: string, args: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

function startWorker(workerData: object): Worker {
  if (__filename.endsWith(".ts")) {
    // Running from sources under tsx: workers do not inherit its loader hooks, so register the CommonJS one first.
    const api = require.resolve("tsx/cjs/api");
    const entry = JSON.stringify(__dirname + "/worker-entry.ts");
    const code = `require(${JSON.stringify(api)}).register(); require(${entry});`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(__dirname + "/worker-entry.js", { workerData });
}

/**
 * Start `workers` threads that each load `module` (an absolute path; its exported functions take (arg, ctx)).
 * @example
 * const g = await workerGroup(require.resolve("./train-worker"), { reduceFloats: nParams });
 * await g.all("step");
 * await g.close()
 */
export async function workerGroup(module: string, options: WorkerGroupOptions = {}): Promise<WorkerGroup> {
  const { workers, reduceFloats, fastKernels } = { ...defaults, ...options };
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`core.workerGroup: workers must be an integer >= 1 (got ${workers}).`);
  const handle = reduceFloats > 0 ? createAllReduce(workers, reduceFloats) : null;
  const threads: Worker[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const ready = Array.from({ length: workers }, (_, rank) => {
    const w = startWorker({ module, rank, world: workers, handle, fastKernels });
    threads.push(w);
    return new Promise<void>((resolve, reject) => {
      w.on("message", (m: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
        if (m.ready !== undefined)
          return m.ready
            ? resolve()
            : reject(new Error(`core.workerGroup: worker ${rank} failed to start: ${m.error}`));
        const p = pending.get(m.id!);
        if (!p) return;
        pending.delete(m.id!);
        if (m.error !== undefined) p.reject(new Error(`core.workerGroup: worker ${rank}: ${m.error}`));
        else p.resolve(m.result);
      });
      w.on("error", (e) => {
        reject(e);
        for (const p of pending.values()) p.reject(e);
        pending.clear();
      });
    });
  });
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw e;
  }
  const call = (rank: number, fn: string, arg: unknown) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      threads[rank].postMessage({ id, fn, arg });
    });
  return {
    size: workers,
    all: <T>(fn: string, arg?: unknown) => Promise.all(threads.map((_, r) => call(r, fn, arg))) as Promise<T[]>,
    each: <T>(fn: string, args: unknown[]) => {
      if (args.length !== workers)
        throw new Error(`core.workerGroup.each: got ${args.length} arguments for ${workers} workers.`);
      return Promise.all(threads.map((_, r) => call(r, fn, args[r]))) as Promise<T[]>;
    },
    close: async () => {
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}

/**
 * CPU seconds used so far by the calling thread (Linux: utime + stime of /proc/thread-self/stat, 10 ms ticks), NaN
 * elsewhere. In a worker this excludes the time it waits for the others, so it shows the work a step really takes.
 * @example const c0 = threadCpuSeconds(); work(); const cpu = threadCpuSeconds() - c0
 */
export function threadCpuSeconds(): number {
  try {
    const f = readFileSync("/proc/thread-self/stat", "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" "); // rest[0] is field 3 (state); utime, stime are 14, 15
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN;
  }
}
