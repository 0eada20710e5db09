// 2-thread data-parallel throughput of the benchmark model (workerGroup + all-reduce from lib/core/kernels): training
// with averaged gradients, and generation with the prompts split between the workers.
import { workerGroup } from "../lib/core/kernels/index.js";
import type { BenchConfig } from "./configs.js";
import { generateTokens, trainTokens } from "./configs.js";

/** Result of one parallel measurement. */
export interface ParallelResult {
  /** Median tokens/s over the timed steps (slowest worker's wall time each step). */
  value: number;
  samples: number[];
  /**
   * Tokens per second if the workers had the machine's cores to themselves: tokens / max(the slowest worker's thread
   * CPU time, the whole process's CPU time / workers), summed over the steps. The second term counts V8's GC helper
   * threads and the main thread too. Linux only (NaN elsewhere). On a busy machine this is the load-corrected figure.
   */
  cpuValue: number;
  /** True when the replicas' weights were bit-identical at the end. */
  inSync: boolean;
}

interface Timed {
  wall: number[];
  cpu: number[];
}

function summarise(per: Timed[], tokens: number, processCpuMs: number, inSync: boolean): ParallelResult {
  const samples = per[0].wall.map((_, s) => tokens / (Math.max(...per.map((p) => p.wall[s])) / 1000));
  const cpuMs = Math.max(...per.map((p) => p.cpu.reduce((a, b) => a + b, 0)), processCpuMs / per.length);
  const sorted = [...samples].sort((a, b) => a - b);
  return { value: sorted[sorted.length >> 1], samples, cpuValue: (tokens * per[0].cpu.length) / (cpuMs / 1000), inSync };
}

/**
 * Train `steps` (+1 warm-up) data-parallel steps with `workers` threads and report tokens/s.
 * @example await parallelTrainTokensPerS(configs.tiny, { steps: 4 })
 */
export async function parallelTrainTokensPerS(c: BenchConfig, options: { steps?: number; workers?: number } = {}): Promise<ParallelResult> {
  const { steps = 4, workers = 2 } = options;
  if (c.batch % workers) throw new Error(`bench: batch ${c.batch} does not split over ${workers} workers`);
  const group = await workerGroup(require.resolve("./parallel-worker"), { workers, reduceFloats: 12_000_000 });
  try {
    await group.all("init", c);
    await group.all("step", { steps: 1 }); // warm-up: heap growth, JIT
    const c0 = process.cpuUsage();
    const per = await group.all<Timed>("step", { steps });
    const cu = process.cpuUsage(c0);
    const sums = await group.all<number>("checksum");
    await group.all("dispose");
    return summarise(per, trainTokens(c), (cu.user + cu.system) / 1000, sums.every((s) => s === sums[0]));
  } finally {
    await group.close();
  }
}

/**
 * Generate `reps` (+1 warm-up) times with the prompts split over `workers` threads and report new tokens/s.
 * @example await parallelGenerateTokensPerS(configs.tiny, { reps: 3 })
 */
export async function parallelGenerateTokensPerS(c: BenchConfig, options: { reps?: number; workers?: number } = {}): Promise<ParallelResult> {
  const { reps = 3, workers = 2 } = options;
  if (c.batch % workers) throw new Error(`bench: batch ${c.batch} does not split over ${workers} workers`);
  const group = await workerGroup(require.resolve("./parallel-worker"), { workers, reduceFloats: 12_000_000 });
  try {
    await group.all("init", c);
    await group.all("generate", { reps: 1 }); // warm-up
    const c0 = process.cpuUsage();
    const per = await group.all<Timed>("generate", { reps });
    const cu = process.cpuUsage(c0);
    const sums = await group.all<number>("checksum");
    await group.all("dispose");
    return summarise(per, generateTokens(c), (cu.user + cu.system) / 1000, sums.every((s) => s === sums[0]));
  } finally {
    await group.close();
  }
}
