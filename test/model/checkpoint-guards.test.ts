// Checkpoint guards (issue 18): config.json is validated before anything is allocated (missing or absurd sizes name
// the field), non-finite weights and a tokenizer larger than the model's vocabulary are errors naming the tensor or
// the sizes, and hidden temp directories of interrupted saves are cleaned up by the next save or load.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { seed } from "../../lib/core/random.js";
import { llamaConfig, presets } from "../../lib/model/config.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { loadCheckpoint, saveCheckpoint } from "../../lib/model/checkpoint.js";
import { readSafetensors, writeSafetensors } from "../../lib/model/safetensors.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-ckpt-guards-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const micro = () => {
  seed(7);
  return new LlamaModel({ ...presets.micro });
};
function saved(name: string): string {
  const dir = path.join(tmp, name);
  const m = micro();
  saveCheckpoint(dir, m);
  m.dispose();
  return dir;
}
const editConfig = (dir: string, f: (c: Record<string, unknown>) => Record<string, unknown>) => {
  const file = path.join(dir, "config.json");
  fs.writeFileSync(file, JSON.stringify(f(JSON.parse(fs.readFileSync(file, "utf8")))));
};

test("config.json {} (or without a size) fails naming the missing field, before any allocation", () => {
  const dir = saved("empty-config");
  fs.writeFileSync(path.join(dir, "config.json"), "{}");
  const before = tf.memory().numBytes;
  const t0 = Date.now();
  assert.throws(() => loadCheckpoint(dir), /config\.json has no vocab_size, hidden_size/);
  assert.ok(Date.now() - t0 < 5000, "no 7B allocation first");
  assert.equal(tf.memory().numBytes, before);
  editConfig(dir, () => ({ ...presets.micro }));
  editConfig(dir, (c) => ({ ...c, num_hidden_layers: undefined }));
  assert.throws(() => loadCheckpoint(dir), /num_hidden_layers/);
});

test("absurd sizes fail naming the field (llamaConfig), and a model too big for memory fails before allocation", () => {
  for (const [field, v] of [
    ["vocab_size", 1e12],
    ["hidden_size", 1 << 24],
    ["num_hidden_layers", 100000],
    ["intermediate_size", 1e9],
    ["max_position_embeddings", 1e12],
  ] as const)
    assert.throws(
      () => llamaConfig({ ...presets.micro, [field]: v }),
      new RegExp(`${field} is invalid.*at most`),
      field,
    );
  const dir = saved("huge-config");
  editConfig(dir, (c) => ({
    ...c,
    hidden_size: 16384,
    num_attention_heads: 128,
    num_key_value_heads: 128,
    intermediate_size: 53248,
    num_hidden_layers: 120,
    vocab_size: 128256,
  }));
  const before = tf.memory().numBytes;
  assert.throws(() => loadCheckpoint(dir), /parameters.*GiB.*hidden_size/s);
  assert.equal(tf.memory().numBytes, before);
});

test("non-finite weights are an error naming the tensor", () => {
  const dir = saved("nan");
  const file = path.join(dir, "model.safetensors");
  const name = "model.layers.0.mlp.up_proj.weight";
  const loaded = readSafetensors(file);
  const host = Object.fromEntries(
    Object.entries(loaded).map(([k, t]) => [k, { shape: t.shape, data: (t.dataSync() as Float32Array).slice() }]),
  );
  tf.dispose(Object.values(loaded));
  host[name].data[5] = NaN;
  writeSafetensors(file, host);
  const n = tf.memory().numTensors;
  assert.throws(() => loadCheckpoint(dir), new RegExp(`${name.replace(/\./g, "\\.")}.*(NaN|non-finite)`));
  assert.equal(tf.memory().numTensors, n, "the half-loaded model is disposed");
});

test("a tokenizer with more ids than the model's vocab_size is an error naming both sizes", () => {
  const dir = path.join(tmp, "vocab");
  const m = micro();
  const tok = CharTokenizer.fromAlphabet("abcdefghijklmnopqrstuvwxyz0123456789+-*/=() ");
  assert.ok(tok.vocabSize > m.config.vocab_size);
  // saveCheckpoint refuses it too; write the tokenizer next to a valid checkpoint by hand
  saveCheckpoint(dir, m);
  m.dispose();
  const other = path.join(tmp, "vocab-tok");
  const big = new LlamaModel({ ...presets.micro, vocab_size: tok.vocabSize });
  saveCheckpoint(other, big, { tokenizer: tok });
  big.dispose();
  for (const f of fs.readdirSync(other))
    if (/^tokenizer/.test(f)) fs.copyFileSync(path.join(other, f), path.join(dir, f));
  assert.throws(
    () => loadCheckpoint(dir),
    new RegExp(`tokenizer.*${tok.vocabSize}.*vocab_size.*${presets.micro.vocab_size}`),
  );
});

test("hidden temp directories of interrupted saves (dead writers) are removed by the next load and save", () => {
  const dir = saved("leftovers");
  const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
  const tmpLeft = path.join(tmp, `.leftovers.tmp-${dead}-1-abc`);
  const oldLeft = path.join(tmp, `.leftovers.old-${dead}-2-abc`);
  const alive = path.join(tmp, `.leftovers.tmp-${process.pid}-999-abc`); // a save in progress here: kept
  for (const d of [tmpLeft, oldLeft, alive]) {
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "model.safetensors"), Buffer.alloc(1000));
  }
  const other = path.join(tmp, `.leftovers2.tmp-${dead}-1-abc`); // another checkpoint's: not ours to judge
  fs.mkdirSync(other);
  const { model } = loadCheckpoint(dir);
  model.dispose();
  assert.deepEqual(
    fs
      .readdirSync(tmp)
      .filter((f) => f.startsWith(".leftovers"))
      .sort(),
    [path.basename(alive), path.basename(other)].sort(),
  );
  fs.mkdirSync(tmpLeft);
  const m = micro();
  saveCheckpoint(dir, m);
  m.dispose();
  assert.ok(!fs.existsSync(tmpLeft), "save cleans too");
  fs.rmSync(alive, { recursive: true });
});

test("a save killed between its two renames: the next load puts the previous checkpoint back", () => {
  const dir = saved("between");
  const dead = 2 ** 22 + 777;
  const old = path.join(tmp, `.between.old-${dead}-1-abc`);
  fs.renameSync(dir, old);
  const { model } = loadCheckpoint(dir);
  model.dispose();
  assert.ok(fs.existsSync(path.join(dir, "config.json")));
  assert.ok(!fs.existsSync(old));
});
