// LlamaConfig: the HuggingFace config.json of a Llama / Qwen2 decoder, with defaults, presets and validation.
// Field names are HF's own (snake_case) so a config.json loads as is and a saved one loads in transformers.
import { describe, fail } from "../core/errors.js";

/** RoPE scaling as in HF config.json (`rope_scaling`); "linear" and "llama3" are supported. */
export interface RopeScaling {
  rope_type?: "default" | "linear" | "llama3";
  /** Older configs spell rope_type as `type`. */
  type?: "default" | "linear" | "llama3";
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** A Llama / Qwen2 decoder configuration, field for field as in HuggingFace config.json. */
export interface LlamaConfig {
  /** "llama" (LlamaForCausalLM, SmolLM) or "qwen2" (Qwen2ForCausalLM: bias on q/k/v). */
  model_type: "llama" | "qwen2";
  /** HF class names, e.g. ["LlamaForCausalLM"]; written to config.json. */
  architectures: string[];
  /** Number of token ids (embedding rows). */
  vocab_size: number;
  /** Model width D. */
  hidden_size: number;
  /** SwiGLU inner width (gate/up output size). */
  intermediate_size: number;
  /** Number of decoder blocks L. */
  num_hidden_layers: number;
  /** Query heads H. */
  num_attention_heads: number;
  /** Key/value heads (grouped-query attention); must divide num_attention_heads. */
  num_key_value_heads: number;
  /** Per-head width; HF default hidden_size / num_attention_heads. */
  head_dim: number;
  /** Longest sequence (prompt + response) the model accepts. */
  max_position_embeddings: number;
  /** RoPE base (10000 for Llama 2, 500000 for Llama 3, 1000000 for Qwen2.5). */
  rope_theta: number;
  /** Optional RoPE frequency scaling (Llama 3.1+). */
  rope_scaling: RopeScaling | null;
  /** Epsilon inside RMSNorm's rsqrt. */
  rms_norm_eps: number;
  /** LM head shares the embedding matrix (no lm_head.weight tensor). */
  tie_word_embeddings: boolean;
  /** Bias on q/k/v projections (Qwen2 always; Llama also puts one on o_proj when true). */
  attention_bias: boolean;
  /** Standard deviation of the normal weight init (HF initializer_range). */
  initializer_range: number;
  bos_token_id: number | null;
  /** One id or a list (Llama 3 lists several); generation stops on any of them. */
  eos_token_id: number | number[] | null;
  pad_token_id: number | null;
}

/** What `llamaConfig()` accepts: any subset of the fields (unknown HF fields are kept out, not rejected). */
export type LlamaConfigInput = Partial<LlamaConfig> & Record<string, unknown>;

/**
 * Defaults for fields a config.json may omit (those of HF LlamaConfig; Qwen2 overrides noted in llamaConfig).
 * @example model.configDefaults.rope_theta // 10000
 */
export const defaults = {
  model_type: "llama" as const,
  vocab_size: 32000,
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  max_position_embeddings: 2048,
  rope_theta: 10000,
  rope_scaling: null,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  initializer_range: 0.02,
  bos_token_id: null,
  eos_token_id: null,
  pad_token_id: null,
};

/**
 * SwiGLU width used by the presets: 8/3 of hidden, rounded down to a multiple of 32.
 * @example swigluWidth(128) // 320
 */
export function swigluWidth(hidden: number): number {
  return Math.floor((hidden * 8) / 3 / 32) * 32;
}

/**
 * Named configurations for models trained from scratch. "tiny" and "small" are the benchmark models;
 * "micro" is for unit tests (fast, still has GQA and several layers).
 * @example new model.LlamaModel({ ...model.presets.tiny, vocab_size: tok.vocabSize })
 */
export const presets: Record<string, LlamaConfigInput> = {
  micro: {
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 64,
    vocab_size: 32,
    max_position_embeddings: 128,
  },
  tiny: {
    hidden_size: 128,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    intermediate_size: swigluWidth(128),
    vocab_size: 64,
    max_position_embeddings: 512,
  },
  small: {
    hidden_size: 256,
    num_hidden_layers: 6,
    num_attention_heads: 8,
    num_key_value_heads: 8,
    intermediate_size: swigluWidth(256),
    vocab_size: 256,
    max_position_embeddings: 1024,
  },
};

function bad(field: string, value: unknown, expected: string, fix: string): never {
  return fail(
    "invalid_option",
    `model.llamaConfig: ${field} is invalid (got ${describe(value)}; expected ${expected}). ${fix}.`,
    {
      path: [field],
      got: value,
      expected,
    },
    llamaConfig,
  );
}

/** Largest accepted sizes: far above any released model, low enough to stop a typo before it allocates. */
export const sizeLimits: Record<string, number> = {
  vocab_size: 1 << 24,
  hidden_size: 1 << 17,
  num_hidden_layers: 1 << 12,
  num_attention_heads: 1 << 12,
  num_key_value_heads: 1 << 12,
  intermediate_size: 1 << 20,
  max_position_embeddings: 1 << 24,
  head_dim: 1 << 12,
};

function posInt(c: Record<string, unknown>, field: string): number {
  const v = c[field];
  const max = sizeLimits[field] ?? Number.MAX_SAFE_INTEGER;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
    bad(field, v, "a positive integer", `Set ${field} in the config`);
  if (v > max) bad(field, v, `a positive integer at most ${max}`, `Check ${field}: no supported model is this large`);
  return v;
}

function optId(c: Record<string, unknown>, field: string, vocab: number): number | null {
  const v = c[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= vocab)
    bad(field, v, `an integer in [0, ${vocab}) or null`, `Fix ${field} or raise vocab_size`);
  return v;
}

/**
 * Complete and validate a config: fills HF defaults (and the Qwen2 ones for model_type "qwen2"), accepts a preset
 * name, and fails with the field and the fix on inconsistent sizes. Unknown HF fields are ignored.
 * @example const cfg = model.llamaConfig({ ...model.presets.tiny, vocab_size: tok.vocabSize })
 */
export function llamaConfig(input: LlamaConfigInput | string): LlamaConfig {
  let c: LlamaConfigInput;
  if (typeof input === "string") {
    const p = presets[input];
    if (!p)
      fail(
        "unknown_name",
        `model.llamaConfig: unknown preset ${JSON.stringify(input)} (known: ${Object.keys(presets).join(", ")}). ` +
          "Pass a preset name or a config object.",
        { got: input, expected: Object.keys(presets) },
        llamaConfig,
      );
    c = { ...p };
  } else if (input === null || typeof input !== "object") {
    return bad(
      "config",
      input,
      "an object with HF config.json fields or a preset name",
      "Pass e.g. model.presets.tiny",
    );
  } else c = input;

  const model_type = (c.model_type ?? defaults.model_type) as string;
  if (model_type !== "llama" && model_type !== "qwen2")
    bad(
      "model_type",
      model_type,
      `"llama" or "qwen2"`,
      'Only Llama-style and Qwen2 decoders are implemented (Mistral-like configs can use "llama")',
    );
  const qwen = model_type === "qwen2";
  const r: Record<string, unknown> = {
    ...defaults,
    ...(qwen ? { rope_theta: 1000000, tie_word_embeddings: false } : {}),
  };
  for (const k of Object.keys(c)) if (c[k] !== undefined) r[k] = c[k];

  const vocab_size = posInt(r, "vocab_size");
  const hidden_size = posInt(r, "hidden_size");
  const num_hidden_layers = posInt(r, "num_hidden_layers");
  const num_attention_heads = posInt(r, "num_attention_heads");
  r.num_key_value_heads ??= num_attention_heads;
  const num_key_value_heads = posInt(r, "num_key_value_heads");
  if (r.intermediate_size === undefined) r.intermediate_size = swigluWidth(hidden_size);
  const intermediate_size = posInt(r, "intermediate_size");
  const max_position_embeddings = posInt(r, "max_position_embeddings");

  if (r.head_dim === undefined || r.head_dim === null) {
    if (hidden_size % num_attention_heads !== 0)
      bad(
        "hidden_size",
        hidden_size,
        `a multiple of num_attention_heads (${num_attention_heads})`,
        `Change hidden_size or num_attention_heads, or set head_dim explicitly`,
      );
    r.head_dim = hidden_size / num_attention_heads;
  }
  const head_dim = posInt(r, "head_dim");
  if (head_dim % 2 !== 0)
    bad(
      "head_dim",
      head_dim,
      "an even number (RoPE rotates pairs)",
      "Pick hidden_size / num_attention_heads even, or set head_dim",
    );
  if (num_attention_heads % num_key_value_heads !== 0)
    bad(
      "num_key_value_heads",
      num_key_value_heads,
      `a divisor of num_attention_heads (${num_attention_heads})`,
      "Each key/value head serves a whole group of query heads; pick e.g. 1, or num_attention_heads",
    );

  const rope_theta = r.rope_theta;
  if (typeof rope_theta !== "number" || !(rope_theta > 1))
    bad("rope_theta", rope_theta, "a number > 1", "Use 10000 (Llama 2) or the checkpoint's value");
  const rms_norm_eps = r.rms_norm_eps;
  if (typeof rms_norm_eps !== "number" || !(rms_norm_eps > 0) || rms_norm_eps > 0.1)
    bad("rms_norm_eps", rms_norm_eps, "a small positive number such as 1e-6", "Use 1e-6 or 1e-5");
  const init = r.initializer_range;
  if (typeof init !== "number" || !(init > 0)) bad("initializer_range", init, "a positive number", "Use 0.02");
  const rope_scaling = (r.rope_scaling ?? null) as RopeScaling | null;
  if (rope_scaling !== null) {
    const t = rope_scaling.rope_type ?? rope_scaling.type ?? "default";
    if (t !== "default" && t !== "linear" && t !== "llama3")
      bad(
        "rope_scaling.rope_type",
        t,
        `"linear" or "llama3"`,
        "Other RoPE scalings (yarn, dynamic, longrope) are not implemented; remove rope_scaling for short contexts",
      );
    if (t !== "default" && !(typeof rope_scaling.factor === "number" && rope_scaling.factor > 0))
      bad("rope_scaling.factor", rope_scaling.factor, "a positive number", "Copy it from the checkpoint's config.json");
  }
  for (const f of ["tie_word_embeddings"] as const)
    if (typeof r[f] !== "boolean") bad(f, r[f], "true or false", `Set ${f} to a boolean`);
  r.attention_bias ??= qwen;
  if (r.use_sliding_window === true)
    bad(
      "use_sliding_window",
      true,
      "false",
      "Sliding-window attention is not implemented; full attention equals it for sequences up to sliding_window " +
        "tokens, so set it to false for short contexts",
    );
  if (r.mlp_bias === true) bad("mlp_bias", true, "false", "Bias in the MLP projections is not implemented");
  if (r.hidden_act !== undefined && r.hidden_act !== "silu")
    bad("hidden_act", r.hidden_act, `"silu"`, "Only the SwiGLU (silu) MLP is implemented");
  if (typeof r.attention_bias !== "boolean")
    bad("attention_bias", r.attention_bias, "true or false", "Set attention_bias to a boolean");

  let eos = r.eos_token_id as number | number[] | null;
  if (Array.isArray(eos)) {
    for (const e of eos)
      if (!Number.isInteger(e) || e < 0 || e >= vocab_size)
        bad("eos_token_id", eos, `ids in [0, ${vocab_size})`, "Fix eos_token_id or raise vocab_size");
  } else eos = optId(r, "eos_token_id", vocab_size);
  const archDefault = [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"];
  const architectures = Array.isArray(r.architectures) ? (r.architectures as string[]) : archDefault;

  return {
    model_type,
    architectures,
    vocab_size,
    hidden_size,
    intermediate_size,
    num_hidden_layers,
    num_attention_heads,
    num_key_value_heads,
    head_dim,
    max_position_embeddings,
    rope_theta,
    rope_scaling,
    rms_norm_eps,
    tie_word_embeddings: r.tie_word_embeddings as boolean,
    attention_bias: r.attention_bias as boolean,
    initializer_range: init,
    bos_token_id: optId(r, "bos_token_id", vocab_size),
    eos_token_id: eos,
    pad_token_id: optId(r, "pad_token_id", vocab_size),
  };
}

/**
 * The eos ids of a config as a list (empty when none).
 * @example eosIds(llamaConfig({ ...presets.micro, eos_token_id: [1, 2] })) // [1, 2]
 */
export function eosIds(config: LlamaConfig): number[] {
  const e = config.eos_token_id;
  return e === null ? [] : Array.isArray(e) ? e : [e];
}
