// Public API of lib/model: the Llama/Qwen2 decoder, its config, logprobs, generation, tokenizers, checkpoints and
// the optimizer. Everything else in this folder (positions, sampling math, safetensors shards, schedules, dtype
// conversion) is internal: tests and the CLI import it from its file.
export { llamaConfig, presets, type LlamaConfig, type LlamaConfigInput, type RopeScaling } from "./config.js";
export {
  LlamaModel,
  type LlamaModelOptions,
  type ForwardInputs,
  type ForwardOptions,
  type ForwardOutput,
} from "./llama.js";
export {
  logprobs,
  logprobTensors,
  alignedLogits,
  fullLogprobs,
  entropyFromLogits,
  type LogprobsBatch,
  type LogprobsOptions,
  type LogprobsResult,
  type LogprobTensors,
} from "./logprobs.js";
export { generate, type GenerateOptions, type GenerateResult } from "./generate.js";
export { type SamplingOptions } from "./sampling.js";
export { type Tokenizer, type EncodeOptions, type DecodeOptions } from "./tokenizer-types.js";
export { CharTokenizer, type CharTokenizerOptions } from "./tokenizer-char.js";
export { HfTokenizer } from "./tokenizer-hf.js";
export { loadTokenizer } from "./tokenizer-io.js";
export { applyChatTemplate, chatTemplates, type ApplyChatTemplateOptions } from "./chat-template.js";
export {
  saveCheckpoint,
  loadCheckpoint,
  type SaveCheckpointOptions,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from "./checkpoint.js";
export { loadOptimizerState } from "./checkpoint-optimizer.js";
export { saveGguf, type SaveGgufOptions, type SavedGguf } from "./gguf.js";
export { AdamW, type AdamWOptions, type ParamSet } from "./optim.js";
export { ParallelTrainer, type ParallelTrainerOptions, type ParallelStepResult } from "./parallel.js";
