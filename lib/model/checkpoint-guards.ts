// Guards of checkpoint loading and saving: leftovers of interrupted saves (hidden `.NAME.tmp-PID-*` and
// `.NAME.old-PID-*` siblings whose writer is gone) are removed, or put back when the save died between its two
// renames; config.json must state its sizes, and the model they describe must fit in memory, before anything is
// allocated; weights must be finite.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { fail } from "../core/errors.js";
import type { LlamaConfig } from "./config.js";

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the temp directories that interrupted saves of `dir` left next to it (only those whose process is gone);
 * when `dir` itself is missing because a save died between moving the old checkpoint aside and moving the new one
 * in, the old one is put back. Returns the names removed or restored.
 * @example cleanInterruptedSaves("runs/ckpt/step-10") // [".step-10.tmp-4242-1-lx0"]
 */
export function cleanInterruptedSaves(dir: string): string[] {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const esc = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`^\\.${esc}\\.(tmp|old)-(\\d+)-`);
  const stale = names
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m !== null && !alive(Number(x.m[2])))
    .sort((a, b) => (a.m![1] === "old" ? -1 : 0) - (b.m![1] === "old" ? -1 : 0));
  const done: string[] = [];
  for (const { n, m } of stale) {
    const p = path.join(parent, n);
    try {
      if (m![1] === "old" && !fs.existsSync(abs) && fs.existsSync(path.join(p, "config.json"))) fs.renameSync(p, abs);
      else fs.rmSync(p, { recursive: true, force: true });
      done.push(n);
    } catch {
      // another process got there first, or the disk refuses: the next save or load tries again
    }
  }
  return done;
}

/** Fields config.json must state: filling them with Llama-7B defaults would allocate a 7B model. */
export const requiredConfigFields = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
] as const;

/**
 * Fail naming the file and field when config.json lacks a size (before llamaConfig fills defaults).
 * @example checkConfigFields(raw, "ckpt/config.json")
 */
export function checkConfigFields(raw: Record<string, unknown>, file: string, from: Function): void {
  const missing = requiredConfigFields.filter((f) => raw[f] === undefined || raw[f] === null);
  if (missing.length > 0)
    fail(
      "invalid_input",
      `model.loadCheckpoint: ${file} has no ${missing.join(", ")} (got ${
        Object.keys(raw).length === 0 ? "{}" : `the fields ${Object.keys(raw).slice(0, 8).join(", ")}`
      }; expected a HuggingFace config.json stating the model's sizes). Use the config.json saved with the weights.`,
      { path: [file, missing[0]], got: missing },
      from,
    );
}

/** float32 parameters of a config (what loading allocates). */
export function parameterCount(c: LlamaConfig): number {
  const H = c.hidden_size;
  const q = c.num_attention_heads * c.head_dim;
  const kv = c.num_key_value_heads * c.head_dim;
  const layer = H * q + 2 * H * kv + q * H + 3 * H * c.intermediate_size + 2 * H + (c.attention_bias ? q + 2 * kv : 0);
  return c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2) + c.num_hidden_layers * layer + H;
}

/**
 * Fail before allocating when the model a config describes cannot fit: the wasm heap holds at most 4 GiB, and no
 * backend can hold more than the machine's memory. The message names the sizes that make it big.
 */
export function checkFits(c: LlamaConfig, file: string, from: Function): void {
  const bytes = parameterCount(c) * 4;
  const limit = Math.min(os.totalmem(), tf.getBackend() === "wasm" ? 4 * 2 ** 30 : Infinity);
  if (bytes > limit) {
    const gib = (x: number) => (x / 2 ** 30).toFixed(1);
    fail(
      "invalid_input",
      `model.loadCheckpoint: ${file} describes a model of ${parameterCount(c).toExponential(2)} parameters ` +
        `(${gib(bytes)} GiB as float32: hidden_size ${c.hidden_size}, num_hidden_layers ${c.num_hidden_layers}, ` +
        `intermediate_size ${c.intermediate_size}, vocab_size ${c.vocab_size}), more than this process can hold ` +
        `(${gib(limit)} GiB${tf.getBackend() === "wasm" ? ", the wasm heap's limit" : ""}). ` +
        "Check config.json, or load a smaller model.",
      { path: [file], got: bytes, expected: limit },
      from,
    );
  }
}

/** Fail naming the tensor when a loaded weight holds NaN or ±Infinity. */
export function checkFinite(name: string, data: ArrayLike<number>, file: string, from: Function): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      let count = 0;
      for (let j = i; j < data.length; j++) if (data[j] - data[j] !== 0) count++;
      fail(
        "invalid_input",
        `model.loadCheckpoint: tensor "${name}" in ${file} has ${count} non-finite values (got ${x} at index ${i}; ` +
          "expected finite weights). The checkpoint was saved from a diverged run: load an earlier one.",
        { path: [file, name, i], got: x },
        from,
      );
    }
  }
}
