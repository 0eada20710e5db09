// 2-thread data-parallel throughput of the benchmark model (workerGroup + all-reduce from lib/core/kernels): training
// with averaged gradients, and generation with the prompts split between the workers.
import { ensureBackend } from "../lib/core/backend.js";
import { workerGroup } from "../lib/core/kernels/index.js";
import { Rng } from "../lib/core/random.js";
import { LlamaModel } from "../lib/model/llama.js";
import { ParallelTrainer } from "../lib/model/parallel.js";
import type { BenchConfig } from "./configs.js";
import { generateTokens, paramCount, trainTokens } from "./configs.js";

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
  return {
    value: sorted[sorted.length >> 1],
    samples,
    cpuValue: (tokens * per[0].cpu.length) / (cpuMs / 1000),
    inSync,
  };
}

/**
 * Train `steps` (+1 warm-up) data-parallel steps with model.ParallelTrainer on `workers` threads; tokens/s.
 * The step is bench/model.ts's (same model and init, mean NLL through logprobTensors, AdamW lr 1e-3), split by rows.
 * @example await parallelTrainTokensPerS(configs.tiny, { steps: 4 })
 */
export async function parallelTrainTokensPerS(
  c: BenchConfig,
  options: { steps?: number; workers?: number } = {},
): Promise<ParallelResult> {
  const { steps = 4, workers = 2 } = options;
  await ensureBackend(); // the main thread holds the model the workers copy
  const m = new LlamaModel(
    {
      hidden_size: c.hidden_size,
      num_hidden_layers: c.num_hidden_layers,
      num_attention_heads: c.num_attention_heads,
      num_key_value_heads: c.num_attention_heads,
      intermediate_size: c.intermediate_size,
      vocab_size: c.vocab_size,
      tie_word_embeddings: c.tie_word_embeddings,
      max_position_embeddings: Math.max(c.seq, c.prompt_len + c.new_tokens),
    },
    { rng: new Rng(0) },
  );
  const pt = await ParallelTrainer.create(m, { workers, optimizer: { lr: 1e-3 } });
  const rng = new Rng(1);
  const batch = () => ({
    ids: Array.from({ length: c.batch }, () => Array.from({ length: c.seq }, () => rng.int(c.vocab_size))),
  });
  try {
    await pt.step(batch()); // warm-up: heap growth, JIT, Adam moments
    const per: Timed[] = Array.from({ length: workers }, () => ({ wall: [], cpu: [] }));
    const c0 = process.cpuUsage();
    for (let s = 0; s < steps; s++) {
      const b = batch();
      const t0 = performance.now();
      const r = await pt.step(b);
      const wall = performance.now() - t0; // includes splitting the batch and messaging the workers
      r.workerCpuMs.forEach((cpu, w) => {
        per[w].wall.push(wall);
        per[w].cpu.push(cpu);
      });
    }
    const cu = process.cpuUsage(c0);
    const sums = await pt.replicaChecksums();
    return summarise(
      per,
      trainTokens(c),
      (cu.user + cu.system) / 1000,
      sums.every((x) => x === sums[0]),
    );
  } finally {
    await pt.close();
    m.dispose();
  }
}

/**
 * Generate `reps` (+1 warm-up) times with the prompts split over `workers` threads and report new tokens/s.
 * @example await parallelGenerateTokensPerS(configs.tiny, { reps: 3 })
 */
export async function parallelGenerateTokensPerS(
  c: BenchConfig,
  options: { reps?: number; workers?: number } = {},
): Promise<ParallelResult> {
  const { reps = 3, workers = 2 } = options;
  if (c.batch % workers) throw new Error(`bench: batch ${c.batch} does not split over ${workers} workers`);
  // the broadcast of rank 0's initial weights goes through the all-reduce buffer: it must hold every parameter
  const reduceFloats = Math.max(12_000_000, paramCount(c));
  const group = await workerGroup(require.resolve("./parallel-worker"), { workers, reduceFloats });
  try {
    await group.all("init", c);
    await group.all("generate", { reps: 1 }); // warm-up
    const c0 = process.cpuUsage();
    const per = await group.all<Timed>("generate", { reps });
    const cu = process.cpuUsage(c0);
    const sums = await group.all<number>("checksum");
    await group.all("dispose");
    return summarise(
      per,
      generateTokens(c),
      (cu.user + cu.system) / 1000,
      sums.every((s) => s === sums[0]),
    );
  } finally {
    await group.close();
  }
}
