// config.json and generation_config.json in the form transformers writes them for LlamaForCausalLM and
// Qwen2ForCausalLM, so a checkpoint saved here loads with AutoModelForCausalLM.from_pretrained(dir).
import type { LlamaConfig } from "./config.js";

/** Fields of the HF config.json that transformers' Llama/Qwen2 classes read and cellrl models. */
const MODELED = [
  "architectures",
  "model_type",
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "max_position_embeddings",
  "rope_theta",
  "rope_scaling",
  "rms_norm_eps",
  "tie_word_embeddings",
  "attention_bias",
  "initializer_range",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
];

/**
 * The config.json object of a model: HF field names, the architecture class, torch_dtype, plus fields of `raw` (the
 * config.json the model was loaded from) that cellrl does not model, so re-saving a downloaded model keeps them.
 * @example hfConfigJson(model.config, {torchDtype: "bfloat16"})
 */
export function hfConfigJson(
  config: LlamaConfig,
  options: { torchDtype?: string; raw?: Record<string, unknown> | null } = {},
): Record<string, unknown> {
  const { torchDtype = "float32", raw = null } = options;
  const qwen = config.model_type === "qwen2";
  const out: Record<string, unknown> = {};
  // Fields we do not model come first from the original file (sliding_window, use_cache, transformers_version, ...).
  if (raw) for (const [k, v] of Object.entries(raw)) if (!MODELED.includes(k) && k !== "torch_dtype") out[k] = v;
  Object.assign(out, {
    architectures: config.architectures?.length
      ? config.architectures
      : [qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"],
    model_type: config.model_type,
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    intermediate_size: config.intermediate_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    num_key_value_heads: config.num_key_value_heads,
    max_position_embeddings: config.max_position_embeddings,
    rope_theta: config.rope_theta,
    rope_scaling: config.rope_scaling,
    rms_norm_eps: config.rms_norm_eps,
    tie_word_embeddings: config.tie_word_embeddings,
    initializer_range: config.initializer_range,
    bos_token_id: config.bos_token_id,
    eos_token_id: config.eos_token_id,
    pad_token_id: config.pad_token_id,
    hidden_act: "silu",
    torch_dtype: torchDtype,
  });
  // head_dim is only read by newer transformers; writing it when it is the default keeps old versions happy too.
  if (config.head_dim !== config.hidden_size / config.num_attention_heads) out.head_dim = config.head_dim;
  if (qwen) {
    // Qwen2 always has q/k/v bias and no attention_bias field; sliding window off as in Qwen2.5's own configs.
    out.use_sliding_window ??= false;
    out.max_window_layers ??= config.num_hidden_layers;
  } else {
    out.attention_bias = config.attention_bias;
    out.mlp_bias ??= false;
  }
  out.attention_dropout ??= 0.0;
  out.use_cache ??= true;
  return out;
}

/**
 * The generation_config.json object: token ids from the model config, then the caller's fields (HF names, e.g.
 * temperature, top_p, max_new_tokens).
 * @example generationConfigJson(model.config, {temperature: 0.7})
 */
export function generationConfigJson(
  config: LlamaConfig,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (config.bos_token_id !== null) out.bos_token_id = config.bos_token_id;
  if (config.eos_token_id !== null) out.eos_token_id = config.eos_token_id;
  if (config.pad_token_id !== null) out.pad_token_id = config.pad_token_id;
  return { ...out, ...fields };
}
