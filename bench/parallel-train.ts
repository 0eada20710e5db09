// 2-thread data-parallel training throughput of the benchmark model (workerGroup + all-reduce from lib/core/kernels).
import { workerGroup } from "../lib/core/kernels/index.js";
import type { BenchConfig } from "./configs.js";
import { trainTokens } from "./configs.js";

/** Result of one parallel measurement. */
export interface ParallelTrainResult {
  /** Median tokens/s over the timed steps (slowest worker's step time each step). */
  value: number;
  samples: number[];
  /** True when the replicas' weights were bit-identical after training. */
  inSync: boolean;
}

/**
 * Train `steps` (+1 warm-up) data-parallel steps with `workers` threads and report tokens/s.
 * @example await parallelTrainTokensPerS(configs.tiny, { steps: 4 })
 */
export async function parallelTrainTokensPerS(c: BenchConfig, options: { steps?: number; workers?: number } = {}): Promise<ParallelTrainResult> {
  const { steps = 4, workers = 2 } = options;
  if (c.batch % workers) throw new Error(`bench: batch ${c.batch} does not split over ${workers} workers`);
  const group = await workerGroup(require.resolve("./parallel-train-worker"), { workers, reduceFloats: 12_000_000 });
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
