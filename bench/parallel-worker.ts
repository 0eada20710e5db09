// Worker module for 2-thread data parallelism on the benchmark model (run by bench/parallel.ts through
// lib/core/kernels' workerGroup). Each worker holds a full replica (model + AdamW state).
// - train: each worker computes the gradient of its half of the batch, the gradients are averaged through shared
//   memory, and each worker steps locally; the replicas stay bit-identical (checked by checksum()). The step is
//   bench/model.ts's (same model, loss through model.logprobTensors -> mean NLL, AdamW defaults), split in two.
// - generate: each worker samples its half of the prompts with model.generate (KV cache), as bench/model.ts does.
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import type { WorkerContext } from "../lib/core/kernels/index.js";
import { Rng } from "../lib/core/random.js";
import { generate as modelGenerate } from "../lib/model/generate.js";
import { LlamaModel } from "../lib/model/llama.js";
import { logprobTensors } from "../lib/model/logprobs.js";
import { AdamW } from "../lib/model/optim.js";
import type { BenchConfig } from "./configs.js";

/** CPU seconds this thread has used (utime + stime of /proc/thread-self/stat, in clock ticks of 10 ms). */
function threadCpu(): number {
  try {
    const f = readFileSync("/proc/thread-self/stat", "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" "); // fields from 3 on: state is rest[0]
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return NaN; // not Linux: no per-thread CPU time
  }
}

/** Per call: wall milliseconds and this thread's CPU milliseconds. */
export interface Timed {
  wall: number[];
  cpu: number[];
}

let model: LlamaModel | null = null;
let opt: AdamW | null = null;
let byTfName = new Map<string, string>();
let config: BenchConfig | null = null;

/** Build the replica; rank 0's initial weights are broadcast so every replica starts equal. */
export function init(c: BenchConfig, ctx: WorkerContext): number {
  config = c;
  model = new LlamaModel({
    hidden_size: c.hidden_size, num_hidden_layers: c.num_hidden_layers, num_attention_heads: c.num_attention_heads,
    num_key_value_heads: c.num_attention_heads, intermediate_size: c.intermediate_size, vocab_size: c.vocab_size,
    tie_word_embeddings: c.tie_word_embeddings, max_position_embeddings: Math.max(c.seq, c.prompt_len + c.new_tokens),
  });
  const vars = model.namedVariables();
  byTfName = new Map([...vars].map(([hf, v]) => [v.name, hf]));
  const list = [...vars.values()];
  const same = ctx.allReduce!.broadcast(list, 0);
  list.forEach((v, i) => v.assign(same[i]));
  tf.dispose(same);
  opt = new AdamW(vars);
  return model.numParameters();
}

/** Generate `reps` times for this rank's share of the prompts; wall and CPU milliseconds per call. */
export function generate(arg: { reps: number }, ctx: WorkerContext): Timed {
  const c = config!;
  const rows = c.batch / ctx.world;
  const rng = new Rng(2000 + ctx.rank);
  const out: Timed = { wall: [], cpu: [] };
  for (let r = 0; r < arg.reps; r++) {
    const prompts = Array.from({ length: rows }, () => Array.from({ length: c.prompt_len }, () => rng.int(c.vocab_size)));
    ctx.allReduce!.barrier(); // start together, so the slower worker's time is the group's time
    const t0 = performance.now();
    const c0 = threadCpu();
    modelGenerate(model!, prompts, { max_new_tokens: c.new_tokens, ignore_eos: true, temperature: 1, seed: 100 * r + ctx.rank });
    out.cpu.push((threadCpu() - c0) * 1000);
    out.wall.push(performance.now() - t0);
  }
  return out;
}

/** Run `steps` data-parallel steps on this rank's rows; wall and CPU milliseconds per step (on this rank). */
export function step(arg: { steps: number }, ctx: WorkerContext): Timed {
  const c = config!;
  const rows = c.batch / ctx.world;
  const rng = new Rng(1000 + ctx.rank);
  const out: Timed = { wall: [], cpu: [] };
  const vars = [...model!.namedVariables().values()];
  for (let s = 0; s < arg.steps; s++) {
    const batch = { ids: Array.from({ length: rows }, () => Array.from({ length: c.seq }, () => rng.int(c.vocab_size))) };
    const t0 = performance.now();
    const c0 = threadCpu();
    const { value, grads } = tf.variableGrads(() => {
      const { logp, mask } = logprobTensors(model!, batch);
      return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar;
    }, vars);
    const names = Object.keys(grads);
    const avg = ctx.allReduce!.mean(names.map((n) => grads[n]));
    const named: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => (named[byTfName.get(n)!] = avg[i]));
    opt!.step(named);
    tf.dispose([value, ...Object.values(grads), ...avg]);
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
  opt = null;
}
