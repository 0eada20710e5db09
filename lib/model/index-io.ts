// Public API of the model folder's I/O and training parts: safetensors, HF checkpoints, tokenizers, chat templates,
// the AdamW optimizer and LR schedules. lib/model/index.ts re-exports this file (export * from "./index-io.js").

export { readSafetensors, readSafetensorsHeader, forEachSafetensor, writeSafetensors, defaults as safetensorsDefaults, type SafetensorsEntry, type SafetensorsHeader, type HostTensor, type LazyTensor, type TensorLikeForWrite, type WriteSafetensorsOptions } from "./safetensors.js";
export { f16ToF32, bf16ToF32, f32ToBf16, f32ToF16, type SafetensorsDtype } from "./safetensors-dtype.js";
export { writeSafetensorsDir, readSafetensorsDir, forEachSafetensorInDir, safetensorsWeightMap, parseShardSize, defaults as safetensorsDirDefaults, type ShardIndex, type WriteSafetensorsDirOptions } from "./safetensors-shards.js";
export { writeFileAtomic, writeJsonAtomic } from "../core/atomic.js";
export { saveCheckpoint, loadCheckpoint, defaults as checkpointDefaults, type SaveCheckpointOptions, type LoadCheckpointOptions, type LoadedCheckpoint } from "./checkpoint.js";
export { hfConfigJson, generationConfigJson } from "./checkpoint-config.js";
export { loadOptimizerState, type OptimizerLike, type SavedOptimizerInfo } from "./checkpoint-optimizer.js";
export { CharTokenizer, defaults as charTokenizerDefaults, type CharTokenizerOptions } from "./tokenizer-char.js";
export { HfTokenizer, type HfTokenizerConfig } from "./tokenizer-hf.js";
export { loadTokenizer, saveTokenizer, tokenizerFiles, tokenizerFromFiles, type TokenizerFiles } from "./tokenizer-io.js";
export { applyChatTemplate, encodeChat, chatTemplates, defaults as chatTemplateDefaults, type ChatMessage, type ApplyChatTemplateOptions } from "./chat-template.js";
export { AdamW, defaults as adamwDefaults, type AdamWOptions, type StepResult, type OptimizerState, type ParamSet, type NamePattern } from "./optim.js";
export { clipGradNorm, globalNorm } from "./optim-clip.js";
export { constantSchedule, cosineSchedule, linearSchedule, makeSchedule, schedules, defaults as scheduleDefaults, type LrSchedule, type ScheduleOptions, type ScheduleSpec } from "./optim-schedule.js";
