// Model throughput for `npm run bench` (bench/run.ts imports this through bench/model-adapter.ts):
//   trainTokensPerS: one step = forward + backward + AdamW on B rows of T tokens, B * (T - 1) target tokens, through
//                    the same differentiable path the algorithms use (model.logprobTensors -> mean NLL);
//   generateTokensPerS: model.generate with the KV cache, B prompts of prompt_len tokens, new_tokens each (EOS
//                    ignored so every row runs to the end), temperature 1 sampling, B * new_tokens tokens per call.
// Both return the median over `steps` / `reps` timed calls after one untimed warm-up, plus the per-call samples.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../lib/core/random.js";
import { generate } from "../lib/model/generate.js";
import { LlamaModel } from "../lib/model/llama.js";
import { logprobTensors } from "../lib/model/logprobs.js";
import { AdamW } from "../lib/model/optim.js";
import type { BenchConfig } from "./configs.js";

/** A measurement: median tokens/s, the per-call samples and the process CPU seconds of each timed call. */
export interface Throughput {
  value: number;
  samples: number[];
  cpuSeconds: number[];
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The benchmark model of a config, seeded (bench/profile.ts builds the same one).
 * @example const m = buildModel(configs.tiny); m.dispose()
 */
export function buildModel(c: BenchConfig): LlamaModel {
  return new LlamaModel(
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
}

/**
 * B rows of T random token ids below V.
 * @example randomIds(new Rng(1), 2, 4, 64) // [[3, 17, 0, 42], [...]]
 */
export function randomIds(rng: Rng, B: number, T: number, V: number): number[][] {
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
}

/**
 * One train step: mean next-token NLL through logprobTensors (the path the algorithms use), backward, AdamW.
 * @example trainStep(m, new AdamW(m.namedVariables(), { lr: 1e-3 }), randomIds(rng, 4, 16, 64))
 */
export function trainStep(m: LlamaModel, opt: AdamW, ids: number[][]): void {
  opt.minimize(() => {
    const { logp, mask } = logprobTensors(m, { ids });
    return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar;
  });
}

/**
 * Training tokens per second: forward + backward + AdamW (clip 1.0, weight decay) on batch x seq random tokens.
 * @example await trainTokensPerS(configs.tiny, { steps: 5 }) // { value: 6000, samples: [...] }
 */
export async function trainTokensPerS(c: BenchConfig, options: { steps?: number } = {}): Promise<Throughput> {
  const { steps = 3 } = options;
  const m = buildModel(c);
  const opt = new AdamW(m.namedVariables(), { lr: 1e-3 });
  const rng = new Rng(1);
  const samples: number[] = [];
  const cpuSeconds: number[] = [];
  try {
    for (let s = 0; s <= steps; s++) {
      const batch = { ids: randomIds(rng, c.batch, c.seq, c.vocab_size) };
      const c0 = cpuNow();
      const t0 = performance.now();
      trainStep(m, opt, batch.ids);
      const dt = (performance.now() - t0) / 1000;
      if (s > 0) {
        samples.push((c.batch * (c.seq - 1)) / dt); // step 0 warms up (kernel packing, Adam moments)
        cpuSeconds.push(cpuNow() - c0);
      }
    }
  } finally {
    opt.dispose?.();
    m.dispose();
  }
  return { value: median(samples), samples, cpuSeconds };
}

/**
 * Generated tokens per second with the KV cache: batch prompts of prompt_len tokens, new_tokens each.
 * @example await generateTokensPerS(configs.tiny, { reps: 5 })
 */
export async function generateTokensPerS(c: BenchConfig, options: { reps?: number } = {}): Promise<Throughput> {
  const { reps = 3 } = options;
  const m = buildModel(c);
  const rng = new Rng(2);
  const samples: number[] = [];
  const cpuSeconds: number[] = [];
  try {
    for (let r = 0; r <= reps; r++) {
      const prompts = randomIds(rng, c.batch, c.prompt_len, c.vocab_size);
      const c0 = cpuNow();
      const t0 = performance.now();
      generate(m, prompts, { maxNewTokens: c.new_tokens, ignoreEos: true, temperature: 1, seed: r });
      const dt = (performance.now() - t0) / 1000;
      if (r > 0) {
        samples.push((c.batch * c.new_tokens) / dt);
        cpuSeconds.push(cpuNow() - c0);
      }
    }
  } finally {
    m.dispose();
  }
  return { value: median(samples), samples, cpuSeconds };
}
