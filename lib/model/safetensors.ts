// One safetensors file: 8-byte little-endian header length N, N bytes of JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the raw little-endian data.
// Reads go tensor by tensor through a file descriptor, so a 1 GB bf16 file never sits in memory twice.
import * as fs from "node:fs";
import * as os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import {
  checkWriteDtype,
  DTYPE_BYTES,
  decodeToF32,
  encodeFromF32,
  type SafetensorsDtype,
} from "./safetensors-dtype.js";
import { writeFileAtomic } from "../core/atomic.js";

/** One tensor entry of a safetensors header. */
export interface SafetensorsEntry {
  /** Element type as written in the file ("F32", "BF16", ...). */
  dtype: string;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  data_offsets: [number, number];
}

/** A parsed safetensors header plus where the data starts. */
export interface SafetensorsHeader {
  file: string;
  tensors: Record<string, SafetensorsEntry>;
  /** The "__metadata__" string map (transformers writes {format: "pt"}). */
  metadata: Record<string, string>;
  /** Byte position of the data section in the file (8 + header length). */
  dataStart: number;
  fileSize: number;
}

/** A float32 tensor on the host: what we write when no tf.Tensor is at hand. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** A tensor produced only when written (e.g. one weight of a model at a time), so a save never holds every copy. */
export interface LazyTensor {
  shape: number[];
  read: () => Float32Array;
}

/** Anything writeSafetensors accepts as a tensor. */
export type TensorLikeForWrite = tf.Tensor | HostTensor | LazyTensor;

/** Options of writeSafetensors. */
export interface WriteSafetensorsOptions {
  /**
   * Element type written for every tensor: "F32" (exact), "BF16" or "F16" (rounded to nearest even). Defaults to "F32".
   */
  dtype?: "F32" | "F16" | "BF16";
  /** Extra "__metadata__" strings; "format": "pt" is always set because transformers refuses files without it. */
  metadata?: Record<string, string>;
}

/** Defaults of writeSafetensors. */
export const defaults = { dtype: "F32" as "F32" | "F16" | "BF16", maxHeaderBytes: 100_000_000 };

const READABLE = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];
if (os.endianness() !== "LE")
  fail(
    "backend",
    "model.safetensors: this host is big-endian; safetensors data is little-endian and cellrl does not byte-swap.",
  );

function readExact(fd: number, file: string, length: number, position: number, what: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, out, done, Math.min(length - done, 1 << 30), position + done);
    if (n === 0)
      fail(
        "io",
        `model.readSafetensors: ${file} is truncated while reading ${what} (got ${done} of ${length} bytes). ` +
          "Re-download or re-save the file.",
        { path: [file] },
      );
    done += n;
  }
  return out;
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function parseHeader(fd: number, file: string): SafetensorsHeader {
  const fileSize = fs.fstatSync(fd).size;
  if (fileSize < 8)
    fail(
      "io",
      `model.readSafetensors: ${file} is truncated (got ${fileSize} bytes; ` +
        "expected at least 8 for the header length). Re-save the file.",
      { path: [file], got: fileSize },
    );
  const lenBytes = readExact(fd, file, 8, 0, "the header length");
  const n = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
  if (n > defaults.maxHeaderBytes || n < 2)
    fail(
      "io",
      `model.readSafetensors: ${file} has a bad header length (got ${n}; expected 2..${defaults.maxHeaderBytes}). ` +
        "This is not a safetensors file.",
      { path: [file], got: n },
    );
  if (8 + n > fileSize)
    fail(
      "io",
      `model.readSafetensors: ${file} is truncated inside its header (header needs ${8 + n} bytes; ` +
        `file has ${fileSize}). Re-save the file.`,
      { path: [file] },
    );
  const text = new TextDecoder().decode(readExact(fd, file, n, 8, "the header"));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(
      "io",
      `model.readSafetensors: ${file} has a header that is not valid JSON (${(e as Error).message}). ` +
        "This is not a safetensors file.",
      { path: [file], cause: e },
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    fail(
      "io",
      `model.readSafetensors: ${file} has a bad header (got ${describe(json)}; expected a JSON object of tensors).`,
      { path: [file] },
    );
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json)) {
    if (name === "__metadata__") {
      metadata = (v ?? {}) as Record<string, string>;
      continue;
    }
    const e = v as SafetensorsEntry;
    const ok =
      e &&
      typeof e.dtype === "string" &&
      Array.isArray(e.shape) &&
      e.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Array.isArray(e.data_offsets) &&
      e.data_offsets.length === 2 &&
      e.data_offsets.every((d) => Number.isInteger(d) && d >= 0) &&
      e.data_offsets[1] >= e.data_offsets[0];
    if (!ok)
      fail(
        "io",
        `model.readSafetensors: ${file} has a bad header entry for tensor "${name}" (got ${describe(e)}; ` +
          "expected {dtype, shape, data_offsets}).",
        { path: [file, name] },
      );
    const bytes = DTYPE_BYTES[e.dtype as SafetensorsDtype];
    if (bytes !== undefined && e.data_offsets[1] - e.data_offsets[0] !== numel(e.shape) * bytes)
      fail(
        "io",
        `model.readSafetensors: ${file}: tensor "${name}" has ${e.data_offsets[1] - e.data_offsets[0]} data bytes ` +
          `(expected ${numel(e.shape) * bytes} for ${e.dtype} [${e.shape.join(", ")}]). The header is corrupt.`,
        { path: [file, name] },
      );
    if (e.data_offsets[1] > dataSize)
      fail(
        "io",
        `model.readSafetensors: ${file} is truncated: tensor "${name}" ends at data byte ${e.data_offsets[1]} but ` +
          `the data section has ${dataSize} bytes. Re-save or re-download the file.`,
        { path: [file, name] },
      );
    tensors[name] = e;
  }
  return { file, tensors, metadata, dataStart, fileSize };
}

/**
 * Read only the header of a safetensors file: tensor names, dtypes, shapes and offsets (no data).
 * @example Object.keys(readSafetensorsHeader("ckpt/model.safetensors").tensors)
 */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openForRead(file, readSafetensorsHeader);
  try {
    return parseHeader(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

function openForRead(file: string, from: Function): number {
  try {
    return fs.openSync(file, "r");
  } catch (e) {
    return fail(
      "not_found",
      `model.readSafetensors: cannot open ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). ` +
        "Check the path.",
      { path: [file], cause: e },
      from,
    );
  }
}

/**
 * Read tensors of a safetensors file as float32 host arrays (F32, F16, BF16, F64 are converted), calling `each` per
 * tensor so the caller can upload and drop it before the next one is read.
 * @example forEachSafetensor("model.safetensors", (name, t) => console.log(name, t.shape))
 */
export function forEachSafetensor(
  file: string,
  each: (name: string, t: HostTensor, entry: SafetensorsEntry) => void,
  options: { names?: string[] } = {},
): SafetensorsHeader {
  const fd = openForRead(file, forEachSafetensor);
  try {
    const header = parseHeader(fd, file);
    const names = options.names ?? Object.keys(header.tensors);
    for (const name of names) {
      const e = header.tensors[name];
      if (!e)
        fail(
          "not_found",
          `model.readSafetensors: ${file} has no tensor "${name}" ` +
            `(it has ${Object.keys(header.tensors).length} tensors, e.g. ` +
            `${Object.keys(header.tensors).slice(0, 3).join(", ")}). Check the tensor name.`,
          { path: [file, name] },
          forEachSafetensor,
        );
      if (!READABLE.includes(e.dtype as SafetensorsDtype))
        fail(
          "invalid_input",
          `model.readSafetensors: ${file}: tensor "${name}" has dtype ${e.dtype} ` +
            `(expected one of ${READABLE.join(", ")}). Convert the checkpoint to a float dtype.`,
          { path: [file, name], got: e.dtype },
          forEachSafetensor,
        );
      const [b, end] = e.data_offsets;
      const raw = readExact(fd, file, end - b, header.dataStart + b, `tensor "${name}"`);
      each(name, { shape: e.shape.slice(), data: decodeToF32(raw, e.dtype as SafetensorsDtype) }, e);
    }
    return header;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Read a safetensors file into float32 tf tensors keyed by name (the caller disposes them).
 * @example const sd = readSafetensors("model.safetensors"); sd["model.norm.weight"].print()
 */
export function readSafetensors(file: string, options: { names?: string[] } = {}): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  try {
    forEachSafetensor(file, (name, t) => (out[name] = tf.tensor(t.data, t.shape, "float32")), options);
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}

function hostData(name: string, t: TensorLikeForWrite): Float32Array {
  if (t instanceof tf.Tensor) {
    if (t.isDisposed)
      fail("invalid_input", `model.writeSafetensors: tensor "${name}" is disposed. Save before disposing the model.`, {
        path: [name],
      });
    if (t.dtype !== "float32")
      fail(
        "invalid_input",
        `model.writeSafetensors: tensor "${name}" has dtype ${t.dtype} (expected float32). Cast it with .toFloat().`,
        { path: [name], got: t.dtype },
      );
    return t.dataSync() as Float32Array;
  }
  const data = "read" in t && typeof t.read === "function" ? t.read() : (t as HostTensor).data;
  if (!(data instanceof Float32Array) || numel(t.shape) !== data.length)
    fail(
      "invalid_input",
      `model.writeSafetensors: tensor "${name}" has no Float32Array data matching shape [${t.shape.join(", ")}] ` +
        `(got ${describe(data)}).`,
      { path: [name] },
    );
  return data;
}

function shapeOf(name: string, t: TensorLikeForWrite): number[] {
  if (!t || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0))
    fail(
      "invalid_input",
      `model.writeSafetensors: tensor "${name}" is not a tf.Tensor, {shape, data: Float32Array} or {shape, read()} ` +
        `(got ${describe(t)}).`,
      { path: [name] },
    );
  return t.shape.slice();
}

/** Header JSON and byte order of a tensor set, with the padding that keeps the data 8-byte aligned. */
export function planSafetensors(
  shapes: Record<string, number[]>,
  dtype: "F32" | "F16" | "BF16",
  metadata: Record<string, string> = {},
): { header: Uint8Array; names: string[]; dataBytes: number } {
  const names = Object.keys(shapes).sort();
  const json: Record<string, unknown> = { __metadata__: { ...metadata, format: "pt" } };
  let off = 0;
  for (const name of names) {
    const bytes = numel(shapes[name]) * DTYPE_BYTES[dtype];
    json[name] = { dtype, shape: shapes[name], data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let text = JSON.stringify(json);
  // The reference writer pads the header with spaces to a multiple of 8 so every tensor starts aligned.
  text += " ".repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
  const body = new TextEncoder().encode(text);
  const header = new Uint8Array(8 + body.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.length), true);
  header.set(body, 8);
  return { header, names, dataBytes: off };
}

/**
 * Write tensors to one safetensors file atomically (temp file + rename), sorted by name, with {format: "pt"} metadata.
 * @example writeSafetensors("w.safetensors", {"lm_head.weight": t}, {dtype: "BF16"})
 */
export function writeSafetensors(
  file: string,
  tensors: Record<string, TensorLikeForWrite>,
  options: WriteSafetensorsOptions = {},
): void {
  const { dtype = defaults.dtype, metadata = {} } = options;
  checkWriteDtype({ where: "model.writeSafetensors", from: writeSafetensors }, dtype);
  const shapes: Record<string, number[]> = {};
  for (const [name, t] of Object.entries(tensors)) shapes[name] = shapeOf(name, t);
  const plan = planSafetensors(shapes, dtype, metadata);
  writeFileAtomic(file, (fd) => {
    fs.writeSync(fd, plan.header);
    // One tensor at a time: dataSync of a large weight is a copy we drop right after writing it.
    for (const name of plan.names) {
      const bytes = encodeFromF32(hostData(name, tensors[name]), dtype);
      let done = 0;
      while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
    }
  });
}
