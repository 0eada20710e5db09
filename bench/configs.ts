// The benchmark models of issue 3 ("Benchmarks"), in HF config names plus the workload of each measurement.

/** One benchmark configuration: the model (HF names) and the train / generate workload. */
export interface BenchConfig {
  name: "tiny" | "small";
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

/** tiny and small exactly as in the issue. */
export const configs: Record<"tiny" | "small", BenchConfig> = {
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
};

/** Tokens a train step learns from: batch * (seq - 1). */
export function trainTokens(c: BenchConfig): number {
  return c.batch * (c.seq - 1);
}

/** Tokens one generate call produces: batch * new_tokens. */
export function generateTokens(c: BenchConfig): number {
  return c.batch * c.new_tokens;
}
