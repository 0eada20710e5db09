// Sharded safetensors in the transformers layout: model-00001-of-0000N.safetensors files plus
// model.safetensors.index.json = {"metadata": {"total_size": bytes}, "weight_map": {tensor name: file name}}.
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { mustBe } from "../core/checks.js";
import { describe, fail } from "../core/errors.js";
import { checkWriteDtype, DTYPE_BYTES } from "./safetensors-dtype.js";
import {
  forEachSafetensor,
  readSafetensorsHeader,
  writeSafetensors,
  type HostTensor,
  type SafetensorsEntry,
  type TensorLikeForWrite,
} from "./safetensors.js";
import { writeJsonAtomic } from "../core/atomic.js";

/** Contents of model.safetensors.index.json. */
export interface ShardIndex {
  metadata: { total_size: number; [k: string]: unknown };
  weight_map: Record<string, string>;
}

/** Options of writeSafetensorsDir. */
export interface WriteSafetensorsDirOptions {
  /** Element type written: "F32", "BF16" or "F16". Defaults to "F32". */
  dtype?: "F32" | "F16" | "BF16";
  /**
   * Largest shard, in bytes or as "500MB" / "2GB" / "1GiB" (transformers' spelling). A larger tensor gets a shard of
   * its own. Defaults to "5GB".
   */
  maxShardSize?: number | string;
  /** File name stem: `<prefix>.safetensors` or `<prefix>-00001-of-00002.safetensors`. Defaults to "model". */
  prefix?: string;
  /** Extra "__metadata__" strings for every file. Defaults to {}. */
  metadata?: Record<string, string>;
}

/** Defaults of writeSafetensorsDir. */
export const defaults = {
  dtype: "F32" as "F32" | "F16" | "BF16",
  maxShardSize: "5GB" as number | string,
  prefix: "model",
};

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/**
 * Bytes of a shard-size option: a number of bytes, or "5GB" (10^9) / "1GiB" (2^30) as transformers parses them.
 * @example parseShardSize("500MB") // 500000000
 */
export function parseShardSize(size: number | string): number {
  if (typeof size === "number" && Number.isFinite(size) && size > 0) return Math.floor(size);
  const m = typeof size === "string" ? /^\s*([0-9.]+)\s*([KMGT]I?B|B)\s*$/i.exec(size) : null;
  if (!m || !(Number(m[1]) > 0))
    return mustBe(
      { where: "model.writeSafetensorsDir" },
      "maxShardSize",
      'must be a positive number of bytes or a string like "500MB" or "2GB"',
      size,
    );
  return Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]);
}

function shapeOf(t: TensorLikeForWrite): number[] {
  return t.shape.slice();
}

/**
 * Write tensors into `dir` as `model.safetensors`, or as shards plus `model.safetensors.index.json` when they exceed
 * `maxShardSize`. Stale shards or index files of an earlier save in the same directory are removed afterwards.
 * @example writeSafetensorsDir("ckpt", model.stateDict(), {maxShardSize: "200MB"})
 */
export function writeSafetensorsDir(
  dir: string,
  tensors: Record<string, TensorLikeForWrite>,
  options: WriteSafetensorsDirOptions = {},
): { files: string[]; index: ShardIndex | null } {
  const { dtype = defaults.dtype, prefix = defaults.prefix, metadata = {} } = options;
  const max = parseShardSize(options.maxShardSize ?? defaults.maxShardSize);
  const bytesPer = DTYPE_BYTES[dtype];
  checkWriteDtype({ where: "model.writeSafetensorsDir", from: writeSafetensorsDir }, dtype);
  // Greedy packing in the caller's order (a state dict lists layers in order), as transformers' shard_checkpoint does.
  const groups: string[][] = [[]];
  let used = 0;
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = shapeOf(t).reduce((a, b) => a * b, 1) * bytesPer;
    total += bytes;
    if (used + bytes > max && groups[groups.length - 1].length > 0) {
      groups.push([]);
      used = 0;
    }
    groups[groups.length - 1].push(name);
    used += bytes;
  }
  fs.mkdirSync(dir, { recursive: true });
  const n = groups.length;
  const files =
    n === 1
      ? [`${prefix}.safetensors`]
      : groups.map(
          (_, i) => `${prefix}-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`,
        );
  const weightMap: Record<string, string> = {};
  groups.forEach((names, i) => {
    const part: Record<string, TensorLikeForWrite> = {};
    for (const name of names) {
      part[name] = tensors[name];
      weightMap[name] = files[i];
    }
    writeSafetensors(path.join(dir, files[i]), part, { dtype, metadata });
  });
  const indexFile = path.join(dir, `${prefix}.safetensors.index.json`);
  let index: ShardIndex | null = null;
  if (n > 1) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(weightMap).sort()) sorted[k] = weightMap[k];
    index = { metadata: { total_size: total }, weight_map: sorted };
    writeJsonAtomic(indexFile, index);
  } else fs.rmSync(indexFile, { force: true });
  const stale = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(-\\d{5}-of-\\d{5})?\\.safetensors$`);
  for (const f of fs.readdirSync(dir))
    if (stale.test(f) && !files.includes(f)) fs.rmSync(path.join(dir, f), { force: true });
  return { files, index };
}

/**
 * Which file holds each tensor of a checkpoint directory: from `model.safetensors.index.json` when present, else
 * from the header of `model.safetensors`.
 * @example Object.keys(safetensorsWeightMap("ckpt"))
 */
export function safetensorsWeightMap(dir: string, options: { prefix?: string } = {}): Record<string, string> {
  const { prefix = defaults.prefix } = options;
  const indexFile = path.join(dir, `${prefix}.safetensors.index.json`);
  const single = path.join(dir, `${prefix}.safetensors`);
  if (fs.existsSync(indexFile)) {
    let index: ShardIndex;
    try {
      index = JSON.parse(fs.readFileSync(indexFile, "utf8"));
    } catch (e) {
      return fail(
        "io",
        `model.readSafetensorsDir: ${indexFile} is not valid JSON (${(e as Error).message}). Re-save the checkpoint.`,
        { path: [indexFile], cause: e },
      );
    }
    if (!index || typeof index.weight_map !== "object" || index.weight_map === null)
      fail(
        "io",
        `model.readSafetensorsDir: ${indexFile} has no "weight_map" object (got ${describe(index)}). ` +
          "Re-save the checkpoint.",
        { path: [indexFile] },
      );
    for (const f of new Set(Object.values(index.weight_map)))
      if (!fs.existsSync(path.join(dir, f)))
        fail(
          "not_found",
          `model.readSafetensorsDir: ${indexFile} lists shard ${f} but ${path.join(dir, f)} does not exist. ` +
            "Copy the missing shard.",
          { path: [indexFile, f] },
        );
    return { ...index.weight_map };
  }
  if (fs.existsSync(single)) {
    const out: Record<string, string> = {};
    for (const name of Object.keys(readSafetensorsHeader(single).tensors)) out[name] = `${prefix}.safetensors`;
    return out;
  }
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".safetensors")) : null;
  return fail(
    "not_found",
    `model.readSafetensorsDir: ${dir} has neither ${prefix}.safetensors nor ${prefix}.safetensors.index.json` +
      (present === null
        ? " (the directory does not exist)"
        : present.length
          ? ` (found ${present.slice(0, 4).join(", ")})`
          : " (no .safetensors files)") +
      `. Point at a HuggingFace-style checkpoint directory.`,
    { path: [dir] },
  );
}

/**
 * Stream every tensor of a checkpoint directory (single file or shards), one file at a time.
 * @example forEachSafetensorInDir("ckpt", (name, t) => total += t.data.length)
 */
export function forEachSafetensorInDir(
  dir: string,
  each: (name: string, t: HostTensor, entry: SafetensorsEntry, file: string) => void,
  options: { prefix?: string; names?: string[] } = {},
): Record<string, string> {
  const map = safetensorsWeightMap(dir, options);
  const wanted = options.names ?? Object.keys(map);
  const byFile = new Map<string, string[]>();
  for (const name of wanted) {
    const f = map[name];
    if (f === undefined)
      fail(
        "not_found",
        `model.readSafetensorsDir: tensor "${name}" is not in the checkpoint at ${dir}. Check the tensor name.`,
        { path: [dir, name] },
      );
    byFile.set(f, [...(byFile.get(f) ?? []), name]);
  }
  for (const [f, names] of byFile) {
    const file = path.join(dir, f);
    forEachSafetensor(file, (name, t, e) => each(name, t, e, file), { names });
  }
  return map;
}

/**
 * Read all (or the named) tensors of a checkpoint directory into float32 tf tensors (the caller disposes them).
 * @example const sd = readSafetensorsDir("ckpt"); tf.dispose(Object.values(sd))
 */
export function readSafetensorsDir(
  dir: string,
  options: { prefix?: string; names?: string[] } = {},
): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  try {
    forEachSafetensorInDir(dir, (name, t) => (out[name] = tf.tensor(t.data, t.shape, "float32")), options);
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}
