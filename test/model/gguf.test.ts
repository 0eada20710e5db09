// GGUF export without llama.cpp: the container parses back (keys, value types, tensor dims and bytes), the q/k
// RoPE permutation moves the rows convert_hf_to_gguf.py moves, and the vocabulary is what llama.cpp needs (unique
// texts, byte-level form, one entry per embedding row). test/remote/llama-cpp-parity.test.ts runs the files.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { byteLevel, ggufVocab, permuteRope, saveGguf } from "../../lib/model/gguf.js";
import { readGgufHeader, readGgufTensor } from "../../lib/model/gguf-format.js";
import { llamaConfig } from "../../lib/model/config.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { loadTokenizer } from "../../lib/model/tokenizer-io.js";
import { micro, randomModel, setup } from "./model-helpers.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-gguf-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

test("permuteRope: per head, row 2i+j takes row j*hd/2+i (HF rotate-half -> llama.cpp interleaved)", () => {
  // 2 heads of head_dim 4, 1 column: head rows [a0 a1 b0 b1] become [a0 b0 a1 b1]
  const w = Float32Array.from([10, 11, 12, 13, 20, 21, 22, 23]);
  assert.deepEqual(Array.from(permuteRope(w, 2, 1)), [10, 12, 11, 13, 20, 22, 21, 23]);
  // 2 columns move as whole rows
  const w2 = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(Array.from(permuteRope(w2, 1, 2)), [0, 1, 4, 5, 2, 3, 6, 7]);
});

test("byteLevel is GPT-2's bytes_to_unicode: printable bytes stay, space and control bytes move up", () => {
  assert.equal(byteLevel("a=9"), "a=9");
  assert.equal(byteLevel(" "), "Ġ");
  assert.equal(byteLevel("\n"), "Ċ");
  assert.equal(byteLevel("é"), "Ã©"); // UTF-8 C3 A9
});

test("saveGguf writes llama metadata with llama.cpp's value types and every tensor in GGUF layout", async () => {
  await setup();
  const m = randomModel({ ...micro, tie_word_embeddings: false, rope_theta: 5000, rms_norm_eps: 1e-5 }, 3);
  const file = path.join(tmp, "micro.gguf");
  const start = tf.memory().numTensors;
  const r = saveGguf(file, m, { name: "micro" });
  assert.equal(tf.memory().numTensors, start, "no tensor leaks");
  assert.equal(r.bytes, fs.statSync(file).size);
  const h = readGgufHeader(file);
  const md = h.metadata;
  assert.equal(md["general.architecture"], "llama");
  assert.equal(md["general.name"], "micro");
  for (const [k, v] of Object.entries({
    "llama.context_length": 64,
    "llama.embedding_length": 32,
    "llama.block_count": 2,
    "llama.feed_forward_length": 48,
    "llama.attention.head_count": 4,
    "llama.attention.head_count_kv": 2,
    "llama.rope.dimension_count": 8,
  })) {
    assert.equal(md[k], v, k);
    assert.equal(h.types[k], "uint32", k);
  }
  assert.equal(h.types["llama.rope.freq_base"], "float32");
  assert.equal(md["llama.rope.freq_base"], 5000);
  assert.ok(Math.abs((md["llama.attention.layer_norm_rms_epsilon"] as number) - 1e-5) < 1e-10);
  assert.equal(md["tokenizer.ggml.model"], "gpt2");
  assert.equal((md["tokenizer.ggml.tokens"] as string[]).length, 24);
  assert.equal(h.types["tokenizer.ggml.merges"], "array<string>");
  const names = h.tensors.map((t) => t.name);
  assert.equal(names.length, 1 + 2 * 9 + 2, "embedding, 9 per layer, output_norm, output");
  for (const n of [
    "token_embd.weight",
    "output_norm.weight",
    "output.weight",
    "blk.1.attn_k.weight",
    "blk.0.ffn_down.weight",
  ])
    assert.ok(names.includes(n), n);
  for (const t of h.tensors) assert.equal(t.offset % 32, 0, `${t.name} is 32-byte aligned`);
  // dims are fastest-first: an HF [out, in] weight is [in, out]; bytes are HF's row-major data, q/k permuted
  const info = (n: string) => h.tensors.find((t) => t.name === n)!;
  assert.deepEqual(info("blk.0.attn_q.weight").dims, [32, 32]);
  assert.deepEqual(info("blk.0.attn_k.weight").dims, [32, 16]);
  assert.deepEqual(info("blk.0.ffn_down.weight").dims, [48, 32]);
  assert.deepEqual(info("token_embd.weight").dims, [32, 24]);
  const sd = m.stateDict();
  const hf = (n: string) => sd[n].dataSync() as Float32Array;
  assert.deepEqual(readGgufTensor(file, info("blk.0.ffn_down.weight")), hf("model.layers.0.mlp.down_proj.weight"));
  assert.deepEqual(readGgufTensor(file, info("blk.0.attn_v.weight")), hf("model.layers.0.self_attn.v_proj.weight"));
  assert.deepEqual(readGgufTensor(file, info("output.weight")), hf("lm_head.weight"));
  assert.deepEqual(
    readGgufTensor(file, info("blk.1.attn_k.weight")),
    permuteRope(hf("model.layers.1.self_attn.k_proj.weight"), 2, 32),
  );
  assert.deepEqual(
    readGgufTensor(file, info("blk.1.attn_q.weight")),
    permuteRope(hf("model.layers.1.self_attn.q_proj.weight"), 4, 32),
  );
  tf.dispose(Object.values(sd));
  m.dispose();
});

test("qwen2: no q/k permutation, biases kept, tied head leaves output.weight out", async () => {
  await setup();
  const m = randomModel({ ...micro, model_type: "qwen2", tie_word_embeddings: true }, 4);
  const file = path.join(tmp, "qwen.gguf");
  saveGguf(file, m);
  const h = readGgufHeader(file);
  assert.equal(h.metadata["general.architecture"], "qwen2");
  assert.equal(h.metadata["qwen2.rope.freq_base"], 1000000);
  const names = h.tensors.map((t) => t.name);
  assert.ok(!names.includes("output.weight"));
  assert.ok(names.includes("blk.0.attn_q.bias") && names.includes("blk.1.attn_v.bias"));
  const sd = m.stateDict();
  const q = h.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
  assert.deepEqual(readGgufTensor(file, q), sd["model.layers.0.self_attn.q_proj.weight"].dataSync());
  tf.dispose(Object.values(sd));
  m.dispose();
});

test("llama3 rope_scaling becomes rope_freqs (base / scaled frequency), linear becomes rope.scaling.*", async () => {
  await setup();
  const scaling = {
    rope_type: "llama3" as const,
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 64,
  };
  const m = randomModel({ ...micro, rope_theta: 500000, rope_scaling: scaling }, 5);
  const f = path.join(tmp, "l3.gguf");
  saveGguf(f, m);
  const h = readGgufHeader(f);
  const rf = h.tensors.find((t) => t.name === "rope_freqs.weight")!;
  const v = Array.from(readGgufTensor(f, rf));
  assert.equal(v.length, 4);
  assert.ok(Math.abs(v[0] - 1) < 1e-6, "the fastest frequency is unscaled");
  assert.ok(Math.abs(v[3] - 8) < 1e-4, "the slowest is divided by factor");
  m.dispose();
  const m2 = randomModel({ ...micro, rope_scaling: { rope_type: "linear", factor: 2 } }, 5);
  const f2 = path.join(tmp, "lin.gguf");
  saveGguf(f2, m2);
  const h2 = readGgufHeader(f2);
  assert.equal(h2.metadata["llama.rope.scaling.type"], "linear");
  assert.equal(h2.metadata["llama.rope.scaling.factor"], 2);
  m2.dispose();
});

test("vocab: char tokens in byte-level form, specials as control tokens, padded and unique", () => {
  const tok = new CharTokenizer(" a=", { byteFallback: true });
  const cfg = llamaConfig({ ...micro, vocab_size: tok.vocabSize + 3 });
  const v = ggufVocab(tok, cfg);
  assert.equal(v.tokens.length, tok.vocabSize + 3);
  assert.deepEqual(v.tokens.slice(0, 6), ["<pad>", "<bos>", "<eos>", "Ġ", "a", "="]);
  assert.deepEqual(v.types.slice(0, 6), [3, 3, 3, 1, 1, 1]);
  assert.equal(v.tokens[6], "<0x00>");
  assert.equal(v.types[6], 6, "byte-fallback tokens are BYTE tokens");
  assert.equal(v.tokens[v.tokens.length - 1], `[PAD${tok.vocabSize + 2}]`);
  assert.equal(new Set(v.tokens).size, v.tokens.length);
  assert.deepEqual([v.bos, v.eos, v.pad], [1, 2, 0]);
});

test("vocab: a byte-level BPE tokenizer goes through with its merges and the qwen2 pre-tokenizer", () => {
  const tok = loadTokenizer(path.join(__dirname, "fixtures", "tiny-bpe"));
  const v = ggufVocab(tok, llamaConfig({ ...micro, model_type: "qwen2", vocab_size: tok.vocabSize }));
  assert.equal(v.pre, "qwen2");
  assert.equal(v.merges[0], "Ġ w");
  assert.equal(v.merges.length, 13);
  assert.equal(v.tokens[220], "Ġ");
  assert.equal(v.types[tok.tokenToId("<|im_end|>")!], 3);
  assert.equal(v.types[tok.tokenToId("<think>")!], 4, "added non-special tokens are user-defined");
});

test("saveGguf refuses what llama.cpp could not use, naming the fix", async () => {
  await setup();
  const m = randomModel(micro, 6);
  const big = new CharTokenizer("abcdefghijklmnopqrstuvwxyz");
  assert.throws(() => saveGguf(path.join(tmp, "x.gguf"), m, { tokenizer: big }), /vocab_size is 24/);
  assert.throws(() => saveGguf(tmp, m), /is a directory/);
  fs.writeFileSync(path.join(tmp, "keep.gguf"), "x");
  assert.throws(() => saveGguf(path.join(tmp, "keep.gguf"), m, { overwrite: false }), /overwrite: true/);
  m.dispose();
});
