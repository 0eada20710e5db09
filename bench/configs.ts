// The benchmark models of issue 3 ("Benchmarks"), in HF config names plus the workload of each measurement.

/** The benchmark configs, smallest first (the scaling curve of BENCHMARKS.md follows this order). */
export type ConfigName = "tiny" | "small" | "medium";

/** One benchmark configuration: the model (HF names) and the train / generate workload. */
export interface BenchConfig {
  name: ConfigName;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  vocab_size: number;
  /** SwiGLU width: 8/3 of hidden rounded down to a multiple of 32. */
  intermediate_size: number;
  /** Untied LM head (the issue allows it; it is also the HF Llama default). */
  tie_word_embeddings: boolean;
  /** Rows per train step and per generate call. */
  batch: number;
  /** Train sequence length: forward + backward + AdamW on seq - 1 target tokens per row. */
  seq: number;
  /** Generate: prompt tokens per row (prefill) and new tokens per row (KV-cache decode). */
  prompt_len: number;
  new_tokens: number;
}

/** 8/3 of hidden rounded down to a multiple of 32 (the SwiGLU rule). */
export function swiglu(hidden: number): number {
  return Math.floor((hidden * 8) / 3 / 32) * 32;
}

/**
 * tiny and small exactly as in issue 3; medium (issue 17's scaling curve) is ~25 M parameters with 2-4x longer
 * sequences: hidden 512, 8 layers (3.1 M parameters each), batch 4 x seq 256 to train, 128 new tokens to sample.
 */
export const configs: Record<ConfigName, BenchConfig> = {
  tiny: {
    name: "tiny",
    hidden_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    vocab_size: 64,
    intermediate_size: swiglu(128),
    tie_word_embeddings: false,
    batch: 64,
    seq: 64,
    prompt_len: 8,
    new_tokens: 32,
  },
  small: {
    name: "small",
    hidden_size: 256,
    num_hidden_layers: 6,
    num_attention_heads: 8,
    vocab_size: 256,
    intermediate_size: swiglu(256),
    tie_word_embeddings: false,
    batch: 32,
    seq: 128,
    prompt_len: 8,
    new_tokens: 64,
  },
  medium: {
    name: "medium",
    hidden_size: 512,
    num_hidden_layers: 8,
    num_attention_heads: 8,
    vocab_size: 256,
    intermediate_size: swiglu(512),
    tie_word_embeddings: false,
    batch: 4,
    seq: 256,
    prompt_len: 8,
    new_tokens: 128,
  },
};

/**
 * Parameters of a config's model: embedding + per layer (q, k, v, o, gate, up, down, two RMSNorms) + final norm +
 * LM head when untied.
 * params = V*d + L*(4*d^2 + 3*d*I + 2*d) + d + (tied ? 0 : d*V)
 * @example paramCount(configs.medium) // 25_174_528
 */
export function paramCount(c: BenchConfig): number {
  const d = c.hidden_size;
  const layer = 4 * d * d + 3 * d * c.intermediate_size + 2 * d;
  return c.vocab_size * d + c.num_hidden_layers * layer + d + (c.tie_word_embeddings ? 0 : d * c.vocab_size);
}

/** FLOPs per token of one workload, split by what they scale with. */
export interface FlopsPerToken {
  /** Projections and SwiGLU: L * (4*d^2 + 3*d*I) multiply-adds, i.e. width^2 * depth. */
  dense: number;
  /** QK^T and AV over the context: L * 2 * d * context multiply-adds, i.e. width * depth * sequence length. */
  attention: number;
  /** LM head: d * V multiply-adds, i.e. width * vocabulary. */
  head: number;
  total: number;
}

/**
 * Matmul FLOPs per token (2 per multiply-add; elementwise ops left out). Train: forward over the full seq x seq
 * score matrix (both frameworks compute it, then mask) times 3 for the backward. Generate: one forward per new token
 * against its KV cache (context = prompt_len + new_tokens / 2 on average); the prefill is left out.
 * train = 3 * 2 * (L*(4d^2 + 3dI) + L*2*d*seq + d*V); generate = 2 * (L*(4d^2 + 3dI) + L*2*d*ctx + d*V)
 * @example flopsPerToken(configs.tiny, "train").total // 4_958_208
 */
export function flopsPerToken(c: BenchConfig, kind: "train" | "generate"): FlopsPerToken {
  const d = c.hidden_size;
  const L = c.num_hidden_layers;
  const ctx = kind === "train" ? c.seq - 1 : c.prompt_len + c.new_tokens / 2;
  const k = kind === "train" ? 6 : 2;
  const dense = k * L * (4 * d * d + 3 * d * c.intermediate_size);
  const attention = k * L * 2 * d * ctx;
  const head = k * d * c.vocab_size;
  return { dense, attention, head, total: dense + attention + head };
}

/** Tokens a train step learns from: batch * (seq - 1). */
export function trainTokens(c: BenchConfig): number {
  return c.batch * (c.seq - 1);
}

/** Tokens one generate call produces: batch * new_tokens. */
export function generateTokens(c: BenchConfig): number {
  return c.batch * c.new_tokens;
}
