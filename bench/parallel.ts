// 2-thread data-parallel throughput of the benchmark model (workerGroup + all-reduce from lib/core/kernels): training
// with averaged gradients, and generation with the prompts split between the workers.
import { workerGroup } from "../lib/core/kernels/index.js";
import type { BenchConfig } from "./configs.js";
import { generateTokens, trainTokens } from "./configs.js";

/** Result of one parallel measurement. */
export interface ParallelResult {
  /** Median tokens/s over the timed steps (slowest worker's time each step). */
  value: number;
  samples: number[];
  /** True when the replicas' weights were bit-identical at the end. */
  inSync: boolean;
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
    const per = await group.all<number[]>("step", { steps });
    const samples = per[0].map((_, s) => trainTokens(c) / (Math.max(...per.map((p) => p[s])) / 1000));
    const sums = await group.all<number>("checksum");
    await group.all("dispose");
    const sorted = [...samples].sort((a, b) => a - b);
    return { value: sorted[sorted.length >> 1], samples, inSync: sums.every((s) => s === sums[0]) };
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
    const per = await group.all<number[]>("generate", { reps });
    const samples = per[0].map((_, s) => generateTokens(c) / (Math.max(...per.map((p) => p[s])) / 1000));
    const sums = await group.all<number>("checksum");
    await group.all("dispose");
    const sorted = [...samples].sort((a, b) => a - b);
    return { value: sorted[sorted.length >> 1], samples, inSync: sums.every((s) => s === sums[0]) };
  } finally {
    await group.close();
  }
}
