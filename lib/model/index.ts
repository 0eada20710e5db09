// Public API of lib/model: the Llama/Qwen2 decoder, its config, logprobs, sampling, tokenizers, checkpoints, optimizer.
// One export line per file. Tokenizer / checkpoint / optimizer files add their own lines below theirs.

export { llamaConfig, presets, swigluWidth, eosIds, defaults as configDefaults, type LlamaConfig, type LlamaConfigInput, type RopeScaling } from "./config.js";
export { LlamaModel, paramSpecs, type LlamaModelOptions, type ForwardInputs, type ForwardOptions, type ForwardOutput, type ParamSpec } from "./llama.js";
export { KVCache } from "./kv-cache.js";
export { positionIds, attentionBias, ropeInvFreq, ropeCosSin, rotateHalfMatrix } from "./positions.js";
export { type MatrixLike } from "./batch.js";
export { logprobs, logprobTensors, defaults as logprobsDefaults, type LogprobsBatch, type LogprobsOptions, type LogprobsResult, type LogprobTensors } from "./logprobs.js";
export { type Tokenizer, type EncodeOptions, type DecodeOptions } from "./tokenizer-types.js";
export { generate, defaults as generateDefaults, type GenerateOptions, type GenerateResult } from "./generate.js";
export { samplingDistribution, sampleIndex, logSoftmax, logprobOf, argmax, checkSampling, defaults as samplingDefaults, type SamplingOptions } from "./sampling.js";
export * from "./index-io.js";
export { ParallelTrainer, parallelNllLoss, defaults as parallelDefaults, type ParallelTrainerOptions, type ParallelStepResult, type ParallelLossResult } from "./parallel.js";
