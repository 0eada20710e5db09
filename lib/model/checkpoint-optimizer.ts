// Optimizer state inside a checkpoint: optimizer.safetensors holds the AdamW moments named exp_avg.<param> and
// exp_avg_sq.<param>, in HF layout (linear weights [out, in], like the model file, so the state does not depend
// on how cellrl stores weights); cellrl.json "optimizer" holds the update count and the options.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fail } from "../core/errors.js";
import type { LlamaModel } from "./llama.js";
import type { AdamWOptions, OptimizerState } from "./optim.js";
import { readSafetensors, writeSafetensors, type LazyTensor } from "./safetensors.js";

/** What a checkpoint needs from an optimizer (AdamW provides it). */
export interface OptimizerLike {
  getState(): OptimizerState;
  lr: number;
  options: Omit<AdamWOptions, "lr">;
}

/** The optimizer entry of cellrl.json. */
export interface SavedOptimizerInfo {
  type: string;
  file: string;
  step: number;
  layout: "hf";
  options: Record<string, unknown>;
}

const FILE = "optimizer.safetensors";

function transposedNames(model: LlamaModel): Set<string> {
  return new Set(
    model
      .parameterSpecs()
      .filter((s) => s.transposed)
      .map((s) => s.name),
  );
}

/** Write optimizer.safetensors into `dir` and return the cellrl.json entry. */
export function writeOptimizerState(dir: string, opt: OptimizerLike, model: LlamaModel): SavedOptimizerInfo {
  const state = opt.getState();
  const flip = transposedNames(model);
  try {
    const tensors: Record<string, LazyTensor> = {};
    for (const [key, t] of Object.entries(state.tensors)) {
      const param = key.slice(key.indexOf(".") + 1);
      const shape = flip.has(param) ? [...t.shape].reverse() : t.shape.slice();
      tensors[key] = {
        shape,
        read: () => {
          const hf = flip.has(param) ? tf.transpose(t) : t;
          try {
            return (hf.dataSync() as Float32Array).slice();
          } finally {
            if (hf !== t) hf.dispose();
          }
        },
      };
    }
    writeSafetensors(path.join(dir, FILE), tensors, { metadata: { step: String(state.step) } });
  } finally {
    tf.dispose(Object.values(state.tensors));
  }
  const o = opt.options as Record<string, unknown>;
  const options: Record<string, unknown> = { lr: opt.lr };
  for (const k of ["betas", "eps", "weightDecay", "clipGradNorm", "schedule", "nonFinite"])
    if (o[k] !== undefined && typeof o[k] !== "function") options[k] = o[k];
  return { type: "AdamW", file: FILE, step: state.step, layout: "hf", options };
}

/**
 * Read the optimizer state saved with a checkpoint, in the layout of `model`'s variables, ready for opt.setState().
 * The caller disposes `tensors`. `options` are the saved AdamW options (lr, betas, ...; not a schedule function).
 * @example
 * const st = loadOptimizerState("ckpt", model);
 * const opt = new AdamW(model.namedVariables(), st.options);
 * opt.setState(st)
 */
export function loadOptimizerState(dir: string, model: LlamaModel): OptimizerState & { options: AdamWOptions } {
  const metaFile = path.join(dir, "cellrl.json");
  const meta = fs.existsSync(metaFile) ? JSON.parse(fs.readFileSync(metaFile, "utf8")) : {};
  const info = meta.optimizer as SavedOptimizerInfo | undefined;
  if (!info || !fs.existsSync(path.join(dir, info.file ?? FILE)))
    fail(
      "not_found",
      `model.loadOptimizerState: ${dir} has no saved optimizer state (cellrl.json "optimizer" and ${FILE}). ` +
        "Save with saveCheckpoint(dir, model, {optimizer: opt}).",
      { path: [dir] },
      loadOptimizerState,
    );
  const flip = transposedNames(model);
  const raw = readSafetensors(path.join(dir, info.file));
  const tensors: Record<string, tf.Tensor> = {};
  for (const [key, t] of Object.entries(raw)) {
    const param = key.slice(key.indexOf(".") + 1);
    tensors[key] = flip.has(param) ? tf.transpose(t) : t;
    if (flip.has(param)) t.dispose();
  }
  return { step: info.step, tensors, options: info.options as AdamWOptions };
}
