// HuggingFace checkpoint directories: model.safetensors (or shards + index), config.json, generation_config.json,
// tokenizer.json + tokenizer_config.json, plus cellrl.json (our extra state) and optimizer.safetensors when asked.
// Saving writes everything into a temporary sibling directory and renames it into place, so `dir` always holds
// either the old complete checkpoint or the new complete one.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { firstOf } from "../core/checks.js";
import { warn } from "../core/warn.js";
import { llamaConfig, type LlamaConfig } from "./config.js";
import { LlamaModel } from "./llama.js";
import type { Tokenizer } from "./tokenizer-types.js";
import { loadTokenizer, saveTokenizer } from "./tokenizer-io.js";
import type { CharTokenizer } from "./tokenizer-char.js";
import type { HfTokenizer } from "./tokenizer-hf.js";
import { checkWriteDtype, TORCH_DTYPE } from "./safetensors-dtype.js";
import { forEachSafetensorInDir, safetensorsWeightMap, writeSafetensorsDir } from "./safetensors-shards.js";
import { readSafetensorsHeader, type LazyTensor } from "./safetensors.js";
import { replaceDirAtomic, tempSibling, writeJsonAtomic } from "../core/atomic.js";
import { generationConfigJson, hfConfigJson } from "./checkpoint-config.js";
import { writeOptimizerState, type OptimizerLike } from "./checkpoint-optimizer.js";
import { checkConfigFields, checkFinite, checkFits, cleanInterruptedSaves } from "./checkpoint-guards.js";

/** Options of saveCheckpoint. */
export interface SaveCheckpointOptions {
  /**
   * Tokenizer saved as tokenizer.json + tokenizer_config.json (CharTokenizer or HfTokenizer), or null. Defaults to
   * null.
   */
  tokenizer?: Tokenizer | null;
  /**
   * generation_config.json fields in HF names (temperature, top_p, max_new_tokens, ...); token ids come from the
   * config. Defaults to {}.
   */
  generationConfig?: Record<string, unknown>;
  /** Weight dtype on disk: "F32" (exact), "BF16" or "F16" (rounded to nearest even). Defaults to "F32". */
  dtype?: "F32" | "BF16" | "F16";
  /**
   * Largest safetensors shard ("5GB", "500MB" or bytes); larger models get model-0000k-of-0000n files and an index.
   * Defaults to "5GB".
   */
  maxShardSize?: number | string;
  /** Also save this AdamW's moments (optimizer.safetensors) and update count, for exact resume. Defaults to null. */
  optimizer?: OptimizerLike | null;
  /** JSON-serializable extra state stored in cellrl.json (e.g. {step, seed, metrics}). Defaults to null. */
  extra?: unknown;
  /**
   * Replace an existing checkpoint at `dir`. Defaults to true (a directory that is not a checkpoint is never replaced).
   */
  overwrite?: boolean;
}

/** Defaults of saveCheckpoint. */
export const defaults = {
  dtype: "F32" as "F32" | "BF16" | "F16",
  maxShardSize: "5GB" as number | string,
  overwrite: true,
};

/** What loadCheckpoint returns. */
export interface LoadedCheckpoint {
  model: LlamaModel;
  config: LlamaConfig;
  /** The tokenizer when tokenizer.json exists, else null. */
  tokenizer: CharTokenizer | HfTokenizer | null;
  /** generation_config.json, or null. */
  generationConfig: Record<string, unknown> | null;
  /** The `extra` given to saveCheckpoint (cellrl.json), or null. */
  extra: unknown;
  /** The directory loaded from. */
  dir: string;
}

/** Options of loadCheckpoint. */
export interface LoadCheckpointOptions {
  /** Make the weights trainable. Defaults to true. */
  trainable?: boolean;
  /** Load tokenizer.json when present. Defaults to true. */
  tokenizer?: boolean;
}

// config.json a model was loaded from, so saving it again keeps the fields cellrl does not model.
const rawConfigs = new WeakMap<LlamaModel, Record<string, unknown>>();

const CHECKPOINT_MARKERS = ["config.json", "cellrl.json", "model.safetensors", "model.safetensors.index.json"];

function looksLikeCheckpoint(dir: string): boolean {
  const files = fs.readdirSync(dir);
  return files.length === 0 || CHECKPOINT_MARKERS.some((f) => files.includes(f));
}

/**
 * Save a model as a HuggingFace checkpoint directory, atomically (temp directory + rename).
 * @example saveCheckpoint("runs/gsm8k/step-100", policy, {tokenizer: tok, optimizer: opt, extra: {step: 100}})
 */
export function saveCheckpoint(
  dir: string,
  model: LlamaModel,
  options: SaveCheckpointOptions = {},
): { dir: string; files: string[] } {
  const {
    tokenizer = null,
    generationConfig = {},
    dtype = defaults.dtype,
    maxShardSize = defaults.maxShardSize,
    optimizer = null,
    extra = null,
    overwrite = defaults.overwrite,
  } = options;
  if (!(model instanceof LlamaModel))
    fail(
      "invalid_input",
      `model.saveCheckpoint: model must be a LlamaModel (got ${describe(model)}).`,
      { got: model },
      saveCheckpoint,
    );
  checkWriteDtype({ where: "model.saveCheckpoint", from: saveCheckpoint }, dtype);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory())
      fail(
        "io",
        `model.saveCheckpoint: ${dir} exists and is a file (expected a checkpoint directory). Choose another path.`,
        { path: [dir] },
        saveCheckpoint,
      );
    if (!overwrite)
      fail(
        "io",
        `model.saveCheckpoint: ${dir} already exists. Pass {overwrite: true} or choose another path.`,
        { path: [dir] },
        saveCheckpoint,
      );
    if (!looksLikeCheckpoint(dir))
      fail(
        "io",
        `model.saveCheckpoint: ${dir} exists and is not a checkpoint (no config.json or model.safetensors); ` +
          "refusing to replace it. Choose another path.",
        { path: [dir] },
        saveCheckpoint,
      );
  }
  const c = model.config;
  if (c.model_type === "qwen2" && !c.attention_bias)
    warn(
      "model/qwen2NoBias",
      "model.saveCheckpoint: a qwen2 model without attention_bias has no q/k/v biases, " +
        "but transformers' Qwen2ForCausalLM always has them (it would initialise them randomly). " +
        `Use model_type "llama" for bias-free models.`,
    );
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  cleanInterruptedSaves(dir);
  const tmp = tempSibling(dir);
  fs.mkdirSync(tmp);
  try {
    // Weights one at a time in HF layout: a save never holds a second copy of the whole model.
    const tensors: Record<string, LazyTensor> = {};
    for (const s of model.parameterSpecs())
      tensors[s.name] = {
        shape: s.hfShape,
        read: () => {
          const t = model.stateTensor(s.name);
          try {
            return (t.dataSync() as Float32Array).slice();
          } finally {
            t.dispose();
          }
        },
      };
    writeSafetensorsDir(tmp, tensors, { dtype, maxShardSize });
    writeJsonAtomic(
      path.join(tmp, "config.json"),
      hfConfigJson(c, { torchDtype: TORCH_DTYPE[dtype], raw: rawConfigs.get(model) }),
    );
    writeJsonAtomic(path.join(tmp, "generation_config.json"), generationConfigJson(c, generationConfig));
    if (tokenizer) saveTokenizer(tmp, tokenizer);
    const meta: Record<string, unknown> = {
      format: "cellrl-checkpoint",
      version: 1,
      saved_at: new Date().toISOString(),
      dtype,
    };
    if (optimizer) meta.optimizer = writeOptimizerState(tmp, optimizer, model);
    if (extra !== null && extra !== undefined) meta.extra = extra;
    writeJsonAtomic(path.join(tmp, "cellrl.json"), meta);
    replaceDirAtomic(tmp, dir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir, files: fs.readdirSync(dir).sort() };
}

function readJson(file: string, fn: Function): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return fail(
      "not_found",
      `model.loadCheckpoint: cannot read ${file} (${(e as NodeJS.ErrnoException).code}). ` +
        "Is this a HuggingFace checkpoint directory?",
      { path: [file], cause: e },
      fn,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(
      "io",
      `model.loadCheckpoint: ${file} is not valid JSON (${(e as Error).message}). Re-save the checkpoint.`,
      { path: [file], cause: e },
      fn,
    );
  }
}

/**
 * Load a HuggingFace checkpoint directory (ours, or a downloaded Llama/Qwen2/SmolLM model) with its tokenizer.
 * F32, F16 and BF16 weights become float32. Every tensor is checked against the config before any data is read.
 * @example const { model, tokenizer } = loadCheckpoint("models/Qwen2.5-0.5B-Instruct")
 */
export function loadCheckpoint(dir: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const { trainable = true, tokenizer: withTokenizer = true } = options;
  cleanInterruptedSaves(dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    fail(
      "not_found",
      `model.loadCheckpoint: ${dir} is not a directory. Pass the folder holding config.json and model.safetensors.`,
      { path: [dir] },
      loadCheckpoint,
    );
  const configFile = path.join(dir, "config.json");
  const raw = readJson(configFile, loadCheckpoint);
  checkConfigFields(raw, configFile, loadCheckpoint);
  const config = llamaConfig(raw);
  checkFits(config, configFile, loadCheckpoint);
  const map = safetensorsWeightMap(dir);
  const tokenizer = withTokenizer && fs.existsSync(path.join(dir, "tokenizer.json")) ? loadTokenizer(dir) : null;
  if (tokenizer && tokenizer.vocabSize > config.vocab_size)
    fail(
      "shape_mismatch",
      `model.loadCheckpoint: the tokenizer in ${dir} has ${tokenizer.vocabSize} ids but config.json's vocab_size ` +
        `is ${config.vocab_size} (ids >= ${config.vocab_size} have no embedding). Use the tokenizer saved with ` +
        "these weights, or load with {tokenizer: false}.",
      { path: [dir, "vocab_size"], got: tokenizer.vocabSize, expected: config.vocab_size },
      loadCheckpoint,
    );
  const model = new LlamaModel(config, { init: "zeros", trainable });
  try {
    checkTensors(dir, model, map);
    // One tensor at a time: convert, copy into the variable, free.
    forEachSafetensorInDir(dir, (name, host, _entry, file) => {
      checkFinite(name, host.data, path.basename(file), loadCheckpoint);
      const t = tf.tensor(host.data, host.shape, "float32");
      try {
        model.loadStateDict({ [name]: t }, { strict: false });
      } finally {
        t.dispose();
      }
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  rawConfigs.set(model, raw);
  const gc = path.join(dir, "generation_config.json");
  const meta = path.join(dir, "cellrl.json");
  return {
    model,
    config,
    tokenizer,
    generationConfig: fs.existsSync(gc) ? readJson(gc, loadCheckpoint) : null,
    extra: fs.existsSync(meta) ? (readJson(meta, loadCheckpoint).extra ?? null) : null,
    dir,
  };
}

/**
 * Names and shapes of the files against the model, from the headers only; the error names tensor, file and both shapes.
 */
function checkTensors(dir: string, model: LlamaModel, map: Record<string, string>): void {
  const specs = new Map(model.parameterSpecs().map((s) => [s.name, s]));
  const tied = model.config.tie_word_embeddings;
  const headers = new Map<string, ReturnType<typeof readSafetensorsHeader>>();
  const problems: string[] = [];
  for (const [name, file] of Object.entries(map)) {
    const s = specs.get(name);
    if (!s) {
      if (!name.endsWith("rotary_emb.inv_freq") && !(tied && name === "lm_head.weight"))
        problems.push(`unexpected tensor "${name}" in ${file}`);
      continue;
    }
    if (!headers.has(file)) headers.set(file, readSafetensorsHeader(path.join(dir, file)));
    const shape = headers.get(file)!.tensors[name]?.shape;
    if (!shape) problems.push(`tensor "${name}" is listed in the index for ${file} but that file does not contain it`);
    else if (shape.join() !== s.hfShape.join())
      problems.push(
        `tensor "${name}" in ${file} has shape [${shape.join(", ")}] but the config expects [${s.hfShape.join(", ")}]`,
      );
  }
  for (const [name, s] of specs)
    if (!(name in map)) problems.push(`missing tensor "${name}" (expected shape [${s.hfShape.join(", ")}])`);
  if (problems.length)
    fail(
      problems.some((p) => p.includes("shape [")) && !problems.some((p) => p.startsWith("missing"))
        ? "shape_mismatch"
        : "not_found",
      `model.loadCheckpoint: the weights in ${dir} do not match its config.json: ` +
        `${firstOf(problems, 6, "; ", "; and ")}. ` +
        "Check that config.json belongs to these weights " +
        "(hidden_size, intermediate_size, heads, vocab_size, tie_word_embeddings).",
      { path: [dir], got: problems },
      loadCheckpoint,
    );
}
