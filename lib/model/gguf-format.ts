// The GGUF container (llama.cpp's model file), version 3, little-endian: a header of typed key/value metadata and
// tensor infos, then the tensor data, each tensor aligned to `general.alignment` (32). The writer streams one tensor
// at a time; the reader parses the header (and a tensor's values on demand) so tests and the CLI can check a file
// without llama.cpp. Layout as in ggml's docs/gguf.md and gguf-py: a tensor's dims are listed fastest-first (ne[0] is
// the row length), so an HF weight [out, in] is written with dims [in, out] and its row-major bytes unchanged.
import * as fs from "node:fs";
import { fail } from "../core/errors.js";

/** GGUF metadata value types (gguf-py GGUFValueType). */
export const GGUF_TYPE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** ggml tensor types used here (F32 only is written). */
export const GGML_TYPE = { F32: 0, F16: 1 } as const;

const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const VERSION = 3;
/** gguf-py GGUF_DEFAULT_ALIGNMENT. */
export const ALIGNMENT = 32;

/** A typed metadata value: scalars, strings, and arrays of one element type. */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "str"; value: string }
  | { type: "arr_str"; value: string[] }
  | { type: "arr_i32"; value: ArrayLike<number> }
  | { type: "arr_f32"; value: ArrayLike<number> };

/** One tensor to write: GGUF name, dims fastest-first (ne), and a producer of its F32 values (called once). */
export interface GgufTensorSource {
  name: string;
  dims: number[];
  data: () => Float32Array;
}

/** Byte writer that grows as needed. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const b = Buffer.alloc(size);
    this.buf.copy(b, 0, 0, this.length);
    this.buf = b;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v | 0, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.length++] = v;
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(w: Bytes, v: GgufValue): void {
  const T = GGUF_TYPE;
  switch (v.type) {
    case "u32":
      w.u32(T.UINT32);
      w.u32(v.value);
      return;
    case "i32":
      w.u32(T.INT32);
      w.i32(v.value);
      return;
    case "f32":
      w.u32(T.FLOAT32);
      w.f32(v.value);
      return;
    case "bool":
      w.u32(T.BOOL);
      w.u8(v.value ? 1 : 0);
      return;
    case "str":
      w.u32(T.STRING);
      w.str(v.value);
      return;
    case "arr_str":
      w.u32(T.ARRAY);
      w.u32(T.STRING);
      w.u64(v.value.length);
      for (const s of v.value) w.str(s);
      return;
    case "arr_i32":
      w.u32(T.ARRAY);
      w.u32(T.INT32);
      w.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) w.i32(v.value[i]);
      return;
    case "arr_f32":
      w.u32(T.ARRAY);
      w.u32(T.FLOAT32);
      w.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) w.f32(v.value[i]);
      return;
  }
}

const pad = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

/**
 * Write a GGUF v3 file to an open file descriptor: header, metadata, tensor infos, then each tensor's F32 data
 * (produced one at a time, so a large model never needs two copies in memory). Returns the bytes written.
 * @example writeGguf(fd, {"general.architecture": {type: "str", value: "llama"}}, tensors)
 */
export function writeGguf(fd: number, metadata: Record<string, GgufValue>, tensors: GgufTensorSource[]): number {
  const head = new Bytes();
  head.u32(MAGIC);
  head.u32(VERSION);
  head.u64(tensors.length);
  head.u64(Object.keys(metadata).length);
  for (const [k, v] of Object.entries(metadata)) {
    head.str(k);
    writeValue(head, v);
  }
  let offset = 0; // relative to the start of the data section
  const offsets: number[] = [];
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(GGML_TYPE.F32);
    head.u64(offset);
    offsets.push(offset);
    const bytes = 4 * t.dims.reduce((a, b) => a * b, 1);
    offset += bytes + pad(bytes);
  }
  head.zeros(pad(head.length));
  let written = fs.writeSync(fd, head.bytes());
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    const data = t.data();
    const want = t.dims.reduce((a, b) => a * b, 1);
    if (data.length !== want)
      fail(
        "shape_mismatch",
        `model.saveGguf: tensor ${t.name} has ${data.length} values (expected ${want} for dims ` +
          `[${t.dims.join(", ")}]). This is a bug in the GGUF export; report it.`,
        { got: data.length, expected: want },
      );
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    written += fs.writeSync(fd, buf);
    const p = pad(buf.length);
    if (p) written += fs.writeSync(fd, Buffer.alloc(p));
  }
  return written;
}

/** A tensor's entry in a GGUF header. */
export interface GgufTensorInfo {
  name: string;
  /** Dims fastest-first (ne), as stored. */
  dims: number[];
  /** ggml type id (0 = F32). */
  type: number;
  /** Absolute byte offset of the data in the file. */
  offset: number;
}

/** A parsed GGUF header. */
export interface GgufHeader {
  version: number;
  /** Metadata values as plain JS values (arrays as arrays). */
  metadata: Record<string, unknown>;
  /** The GGUF value type of each metadata key (arrays as "array<elementType>"), e.g. "uint32". */
  types: Record<string, string>;
  tensors: GgufTensorInfo[];
}

const TYPE_NAMES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
];

/**
 * Parse the header of a GGUF file (metadata and tensor infos; tensor data is not read).
 * @example readGgufHeader("model.gguf").metadata["general.architecture"] // "llama"
 */
export function readGgufHeader(file: string): GgufHeader {
  const buf = fs.readFileSync(file);
  let p = 0;
  const bad = (what: string): never =>
    fail("invalid_input", `model.readGgufHeader: ${file} is not a valid GGUF file (${what}).`, { path: [file] });
  const need = (n: number) => {
    if (p + n > buf.length) bad(`truncated at byte ${p}`);
  };
  const u32 = () => (need(4), (p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => (need(8), (p += 8), Number(buf.readBigUInt64LE(p - 8)));
  const str = () => {
    const n = u64();
    need(n);
    p += n;
    return buf.toString("utf8", p - n, p);
  };
  const scalar = (t: number): unknown => {
    switch (t) {
      case 0:
        return (need(1), buf.readUInt8(p++));
      case 1:
        return (need(1), buf.readInt8(p++));
      case 2:
        return (need(2), (p += 2), buf.readUInt16LE(p - 2));
      case 3:
        return (need(2), (p += 2), buf.readInt16LE(p - 2));
      case 4:
        return u32();
      case 5:
        return (need(4), (p += 4), buf.readInt32LE(p - 4));
      case 6:
        return (need(4), (p += 4), buf.readFloatLE(p - 4));
      case 7:
        return (need(1), buf.readUInt8(p++) !== 0);
      case 8:
        return str();
      case 10:
        return u64();
      case 11:
        return (need(8), (p += 8), Number(buf.readBigInt64LE(p - 8)));
      case 12:
        return (need(8), (p += 8), buf.readDoubleLE(p - 8));
      default:
        return bad(`unknown value type ${t}`);
    }
  };
  if (buf.length < 4 || buf.readUInt32LE(0) !== MAGIC) bad('no "GGUF" magic');
  p = 4;
  const version = u32();
  if (version !== 2 && version !== 3) bad(`version ${version}; expected 3`);
  const nTensors = u64();
  const nKv = u64();
  const metadata: Record<string, unknown> = {};
  const types: Record<string, string> = {};
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const t = u32();
    if (t === GGUF_TYPE.ARRAY) {
      const et = u32();
      const n = u64();
      const arr: unknown[] = new Array(n);
      for (let j = 0; j < n; j++) arr[j] = scalar(et);
      metadata[key] = arr;
      types[key] = `array<${TYPE_NAMES[et] ?? et}>`;
    } else {
      metadata[key] = scalar(t);
      types[key] = TYPE_NAMES[t] ?? String(t);
    }
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims: number[] = [];
    for (let j = 0; j < nd; j++) dims.push(u64());
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  const align = typeof metadata["general.alignment"] === "number" ? (metadata["general.alignment"] as number) : 32;
  const dataStart = p + ((align - (p % align)) % align);
  for (const t of tensors) t.offset += dataStart;
  return { version, metadata, types, tensors };
}

/**
 * The F32 values of one tensor of a GGUF file (row-major, dims fastest-first as in its header).
 * @example readGgufTensor("model.gguf", readGgufHeader("model.gguf").tensors[0])
 */
export function readGgufTensor(file: string, info: GgufTensorInfo): Float32Array {
  if (info.type !== GGML_TYPE.F32)
    fail("invalid_input", `model.readGgufTensor: ${info.name} has ggml type ${info.type} (only F32 is read).`, {
      got: info.type,
    });
  const n = info.dims.reduce((a, b) => a * b, 1);
  const fd = fs.openSync(file, "r");
  try {
    const out = new Float32Array(n);
    fs.readSync(fd, new Uint8Array(out.buffer), 0, 4 * n, info.offset);
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
