import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../../lib/model/safetensors.js";
import { f32ToBf16, f32ToF16, f16ToF32, bf16ToF32 } from "../../lib/model/safetensors-dtype.js";
import {
  parseShardSize,
  readSafetensorsDir,
  safetensorsWeightMap,
  writeSafetensorsDir,
} from "../../lib/model/safetensors-shards.js";
import { Rng } from "../../lib/core/random.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-st-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** A safetensors file built by hand (independent of our writer): header JSON + raw bytes. */
function handMade(file: string, header: object, data: Uint8Array, pad = true): void {
  let text = JSON.stringify(header);
  if (pad) text += " ".repeat((8 - ((8 + text.length) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(text), Buffer.from(data)]));
}
const u16 = (xs: number[]) => new Uint8Array(new Uint16Array(xs).buffer);

test("reads a hand-made F32 file with exact values and shapes", () => {
  const f = path.join(tmp, "f32.safetensors");
  const vals = new Float32Array([1, -2, 0.5, 3.25, 7, 8]);
  handMade(
    f,
    { a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] }, __metadata__: { format: "pt" } },
    new Uint8Array(vals.buffer),
    false,
  );
  const before = tf.memory().numTensors;
  const sd = readSafetensors(f);
  assert.deepEqual(sd.a.shape, [2, 3]);
  assert.deepEqual(Array.from(sd.a.dataSync()), [1, -2, 0.5, 3.25, 7, 8]);
  tf.dispose(Object.values(sd));
  assert.equal(tf.memory().numTensors, before);
});

test("reads BF16 and F16 bit patterns as the float32 values they encode", () => {
  const f = path.join(tmp, "half.safetensors");
  const bf = [0x3f80, 0xc000, 0x3fc0, 0x4049, 0x0000, 0x8000]; // 1, -2, 1.5, 3.140625, 0, -0
  const hf = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0xfc00]; // 1, -2, 0.333251953125, 2^-24, 65504, -inf
  const data = new Uint8Array(24);
  data.set(u16(bf), 0);
  data.set(u16(hf), 12);
  handMade(
    f,
    {
      b: { dtype: "BF16", shape: [6], data_offsets: [0, 12] },
      h: { dtype: "F16", shape: [3, 2], data_offsets: [12, 24] },
    },
    data,
  );
  const sd = readSafetensors(f);
  assert.deepEqual(Array.from(sd.b.dataSync()), [1, -2, 1.5, 3.140625, 0, -0]);
  assert.ok(Object.is(sd.b.dataSync()[5], -0));
  assert.deepEqual(Array.from(sd.h.dataSync()), [1, -2, 0.333251953125, 2 ** -24, 65504, -Infinity]);
  tf.dispose(Object.values(sd));
});

test("float32 -> bf16 and f16 round to nearest even", () => {
  // 1 + 2^-8 is halfway between bf16 1.0 (0x3f80, even) and 1.0078125 (0x3f81): goes down; 1 + 3*2^-8 goes up to 0x3f82.
  assert.deepEqual(
    Array.from(f32ToBf16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -1, Infinity, NaN]))),
    [0x3f80, 0x3f82, 0x3f81, 0xbf80, 0x7f80, 0x7fc0],
  );
  // f16: halfway 1 + 2^-11 -> 1.0; 65519 -> 65504; 65520 -> inf; 2^-25 (halfway to the smallest subnormal) -> 0; 3*2^-26 -> 2^-24.
  assert.deepEqual(
    Array.from(
      f32ToF16(
        new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 3 * 2 ** -26, -0, 2 ** -14, 1e-5]),
      ),
    ),
    [0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x8000, 0x0400, 0x00a8],
  );
  // Decoding every half pattern and re-encoding gives the same bits (NaNs excluded).
  const all = new Uint16Array(65536).map((_, i) => i);
  const back = f32ToF16(f16ToF32(all));
  for (let i = 0; i < 65536; i++)
    if (((i >> 10) & 0x1f) !== 31 || (i & 0x3ff) === 0) assert.equal(back[i], i, `half 0x${i.toString(16)}`);
  assert.deepEqual(Array.from(bf16ToF32(new Uint16Array([0x4049]))), [3.140625]);
});

test("write -> read is bit-exact in F32 and writes an 8-byte aligned header with format pt", () => {
  const rng = new Rng(1);
  const a = new Float32Array(37).map(() => rng.normal() * 1e-3);
  a[3] = -0;
  a[4] = 1e-42; // subnormal float32 survives
  const t = tf.tensor(a, [37]);
  const f = path.join(tmp, "rt.safetensors");
  writeSafetensors(f, {
    "z.weight": t,
    "a.bias": { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    scalar: { shape: [], data: new Float32Array([5]) },
  });
  const h = readSafetensorsHeader(f);
  assert.equal(h.dataStart % 8, 0);
  assert.equal(h.metadata.format, "pt");
  assert.deepEqual(Object.keys(h.tensors), ["a.bias", "scalar", "z.weight"]);
  const sd = readSafetensors(f);
  assert.deepEqual(new Uint32Array(sd["z.weight"].dataSync().buffer), new Uint32Array(a.buffer));
  assert.deepEqual(sd.scalar.shape, []);
  assert.deepEqual(Array.from(sd["a.bias"].dataSync()), [1, 2, 3, 4]);
  tf.dispose([t, ...Object.values(sd)]);
  assert.deepEqual(
    fs.readdirSync(tmp).filter((x) => x.includes(".tmp-")),
    [],
    "no temp file left behind",
  );
});

test("BF16 write stores the rounded values", () => {
  const f = path.join(tmp, "bf.safetensors");
  writeSafetensors(
    f,
    { w: { shape: [3], data: new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 0.1]) } },
    { dtype: "BF16" },
  );
  const sd = readSafetensors(f);
  assert.deepEqual(Array.from(sd.w.dataSync()), [1, 1.015625, 0.10009765625]);
  assert.equal(readSafetensorsHeader(f).tensors.w.dtype, "BF16");
  tf.dispose(Object.values(sd));
});

test("truncated, garbage and incomplete files give errors naming the file and tensor", () => {
  const f = path.join(tmp, "trunc.safetensors");
  writeSafetensors(f, { "model.norm.weight": { shape: [4], data: new Float32Array(4) } });
  const full = fs.readFileSync(f);
  fs.writeFileSync(f, full.subarray(0, full.length - 3));
  assert.throws(
    () => readSafetensors(f),
    (e: Error) => e.message.includes(f) && e.message.includes('"model.norm.weight"') && /truncated/.test(e.message),
  );
  fs.writeFileSync(f, full.subarray(0, 20));
  assert.throws(() => readSafetensors(f), /truncated inside its header/);
  fs.writeFileSync(f, full.subarray(0, 5));
  assert.throws(() => readSafetensors(f), /truncated \(got 5 bytes/);
  fs.writeFileSync(f, "this is not a safetensors file at all");
  assert.throws(() => readSafetensors(f), /bad header length/);
  handMade(f, {}, new Uint8Array(0));
  fs.writeFileSync(f, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{abc")]));
  assert.throws(() => readSafetensors(f), /not valid JSON/);
  handMade(f, { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
  assert.throws(() => readSafetensors(f), /"w" has 8 data bytes \(expected 12/);
  handMade(f, { ids: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
  assert.throws(() => readSafetensors(f), /"ids" has dtype I64/);
  writeSafetensors(f, { a: { shape: [1], data: new Float32Array(1) } });
  assert.throws(() => readSafetensors(f, { names: ["b"] }), /has no tensor "b"/);
  assert.throws(
    () => readSafetensors(path.join(tmp, "nope.safetensors")),
    /cannot open .*nope\.safetensors \(ENOENT\)/,
  );
  assert.throws(() => writeSafetensors(f, { a: tf.tensor([1], [1], "int32") }), /"a" has dtype int32/);
});

test("sharded write splits by maxShardSize, writes the index, and reads back; a later single-file save removes stale shards", () => {
  const dir = path.join(tmp, "sharded");
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (let i = 0; i < 5; i++) t[`model.layers.${i}.w`] = { shape: [10], data: new Float32Array(10).fill(i) }; // 40 B each
  const { files, index } = writeSafetensorsDir(dir, t, { maxShardSize: 100 });
  assert.deepEqual(files, [
    "model-00001-of-00003.safetensors",
    "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors",
  ]);
  assert.equal(index!.metadata.total_size, 200);
  const onDisk = JSON.parse(fs.readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
  assert.equal(onDisk.weight_map["model.layers.4.w"], "model-00003-of-00003.safetensors");
  const sd = readSafetensorsDir(dir);
  for (let i = 0; i < 5; i++) assert.deepEqual(Array.from(sd[`model.layers.${i}.w`].dataSync()), new Array(10).fill(i));
  tf.dispose(Object.values(sd));
  writeSafetensorsDir(dir, t);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["model.safetensors"]);
  assert.equal(Object.keys(safetensorsWeightMap(dir)).length, 5);
  fs.mkdirSync(path.join(tmp, "empty"));
  assert.throws(
    () => readSafetensorsDir(path.join(tmp, "empty")),
    /has neither model\.safetensors nor model\.safetensors\.index\.json \(no \.safetensors files\)/,
  );
});

test("a shard listed in the index but missing on disk is named", () => {
  const dir = path.join(tmp, "missing-shard");
  const t = { a: { shape: [30], data: new Float32Array(30) }, b: { shape: [30], data: new Float32Array(30) } };
  writeSafetensorsDir(dir, t, { maxShardSize: "100B" });
  fs.rmSync(path.join(dir, "model-00002-of-00002.safetensors"));
  assert.throws(() => readSafetensorsDir(dir), /lists shard model-00002-of-00002\.safetensors but .* does not exist/);
});

test("parseShardSize follows transformers' units", () => {
  assert.equal(parseShardSize("5GB"), 5e9);
  assert.equal(parseShardSize("1GiB"), 2 ** 30);
  assert.equal(parseShardSize("500mb"), 5e8);
  assert.equal(parseShardSize(1234), 1234);
  assert.throws(
    () => parseShardSize("lots"),
    /maxShardSize must be a positive number of bytes or a string like "500MB"/,
  );
  assert.throws(() => parseShardSize(-1), /got -1/);
});
