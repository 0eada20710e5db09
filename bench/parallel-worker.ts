// Worker module for 2-thread generation on the benchmark model (run by bench/parallel.ts through lib/core/kernels'
// workerGroup): each worker holds a replica and samples its half of the prompts with model.generate (KV cache), as
// bench/model.ts does. (2-worker training uses the library's model.ParallelTrainer.)
import * as tf from "@tensorflow/tfjs";
import { threadCpuSeconds as threadCpu, type WorkerContext } from "../lib/core/kernels/index.js";
import { Rng } from "../lib/core/random.js";
import { generate as modelGenerate } from "../lib/model/generate.js";
import { LlamaModel } from "../lib/model/llama.js";
import type { BenchConfig } from "./configs.js";

/** Per call: wall milliseconds and this thread's CPU milliseconds. */
export interface Timed {
  wall: number[];
  cpu: number[];
}

let model: LlamaModel | null = null;
let config: BenchConfig | null = null;

/** Build the replica; rank 0's initial weights are broadcast so every replica starts equal. */
export function init(c: BenchConfig, ctx: WorkerContext): number {
  config = c;
  model = new LlamaModel({
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
    vocab_size: c.vocab_size,
    tie_word_embeddings: c.tie_word_embeddings,
    max_position_embeddings: Math.max(c.seq, c.prompt_len + c.new_tokens),
  });
  const list = [...model.namedVariables().values()];
  const same = ctx.allReduce!.broadcast(list, 0);
  list.forEach((v, i) => v.assign(same[i]));
  tf.dispose(same);
  return model.numParameters();
}

/** Generate `reps` times for this rank's share of the prompts; wall and CPU milliseconds per call. */
export function generate(arg: { reps: number }, ctx: WorkerContext): Timed {
  const c = config!;
  const rows = c.batch / ctx.world;
  const rng = new Rng(2000 + ctx.rank);
  const out: Timed = { wall: [], cpu: [] };
  for (let r = 0; r < arg.reps; r++) {
    const prompts = Array.from({ length: rows }, () =>
      Array.from({ length: c.prompt_len }, () => rng.int(c.vocab_size)),
    );
    ctx.allReduce!.barrier(); // start together, so the slower worker's time is the group's time
    const t0 = performance.now();
    const c0 = threadCpu();
    modelGenerate(model!, prompts, {
      maxNewTokens: c.new_tokens,
      ignoreEos: true,
      temperature: 1,
      seed: 100 * r + ctx.rank,
    });
    out.cpu.push((threadCpu() - c0) * 1000);
    out.wall.push(performance.now() - t0);
  }
  return out;
}

/** Sum of all weights (replicas must agree bit for bit). */
export function checksum(): number {
  return tf.tidy(() => [...model!.namedVariables().values()].reduce((s, v) => s + tf.sum(v).dataSync()[0], 0));
}

/** Free the replica. */
export function dispose(): void {
  model?.dispose();
  model = null;
}
