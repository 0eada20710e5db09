import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { seed } from "../../lib/core/random.js";
import { presets } from "../../lib/model/config.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { loadCheckpoint, saveCheckpoint } from "../../lib/model/checkpoint.js";
import { loadOptimizerState } from "../../lib/model/checkpoint-optimizer.js";
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from "../../lib/model/safetensors.js";
import { bf16ToF32, f32ToBf16 } from "../../lib/model/safetensors-dtype.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { HfTokenizer } from "../../lib/model/tokenizer-hf.js";
import { AdamW } from "../../lib/model/optim.js";
import type { Tokenizer } from "../../lib/model/tokenizer-types.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-ckpt-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
const micro = (extra: Record<string, unknown> = {}) => {
  seed(7);
  return new LlamaModel({ ...presets.micro, ...extra });
};
function sameWeights(a: LlamaModel, b: LlamaModel, map: (x: Float32Array) => Float32Array = (x) => x) {
  const sa = a.stateDict();
  const sb = b.stateDict();
  assert.deepEqual(Object.keys(sb).sort(), Object.keys(sa).sort());
  for (const k of Object.keys(sa)) {
    assert.deepEqual(sb[k].shape, sa[k].shape, k);
    const want = map((sa[k].dataSync() as Float32Array).slice());
    assert.deepEqual(bits(sb[k]), Array.from(new Uint32Array(want.buffer)), k);
  }
  tf.dispose([...Object.values(sa), ...Object.values(sb)]);
}

test("fp32 save -> load is bit-exact and restores config, tokenizer, generation config and extra", () => {
  const start = tf.memory().numTensors;
  const m = micro({ model_type: "qwen2", eos_token_id: 2, pad_token_id: 0, bos_token_id: 1 });
  const tok = CharTokenizer.fromAlphabet("0123456789+=abcdefghijklmnopq", { chatTemplate: "plain" });
  const dir = path.join(tmp, "rt");
  const { files } = saveCheckpoint(dir, m, {
    tokenizer: tok,
    generationConfig: { temperature: 0.7, max_new_tokens: 16 },
    extra: { step: 3, note: "x" },
  });
  assert.deepEqual(files, [
    "cellrl.json",
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  assert.deepEqual(cfg.architectures, ["Qwen2ForCausalLM"]);
  assert.equal(cfg.model_type, "qwen2");
  assert.equal(cfg.torch_dtype, "float32");
  assert.equal(cfg.hidden_act, "silu");
  assert.ok(readSafetensorsHeader(path.join(dir, "model.safetensors")).tensors["model.layers.1.self_attn.q_proj.bias"]);
  const ck = loadCheckpoint(dir);
  sameWeights(m, ck.model);
  assert.deepEqual(ck.config, m.config);
  assert.ok(ck.tokenizer instanceof CharTokenizer);
  assert.deepEqual((ck.tokenizer as CharTokenizer).tokens, tok.tokens);
  assert.deepEqual(ck.generationConfig, {
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
    temperature: 0.7,
    max_new_tokens: 16,
  });
  assert.deepEqual(ck.extra, { step: 3, note: "x" });
  const ids = [[3, 4, 5, 6]];
  const a = m.forward({ ids }).logits;
  const b = ck.model.forward({ ids }).logits;
  assert.deepEqual(bits(a), bits(b));
  tf.dispose([a, b]);
  m.dispose();
  ck.model.dispose();
  assert.equal(tf.memory().numTensors, start);
});

test("bf16 save stores round-to-nearest-even weights that load back exactly", () => {
  const m = micro({ tie_word_embeddings: true });
  const dir = path.join(tmp, "bf16");
  saveCheckpoint(dir, m, { dtype: "BF16" });
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).torch_dtype, "bfloat16");
  const h = readSafetensorsHeader(path.join(dir, "model.safetensors"));
  assert.equal(h.tensors["model.embed_tokens.weight"].dtype, "BF16");
  assert.equal(h.tensors["lm_head.weight"], undefined, "tied: no lm_head tensor");
  const ck = loadCheckpoint(dir);
  sameWeights(m, ck.model, (x) => bf16ToF32(f32ToBf16(x)));
  m.dispose();
  ck.model.dispose();
});

test("a sharded save writes an index and loads identically", () => {
  const m = micro();
  const dir = path.join(tmp, "sharded");
  saveCheckpoint(dir, m, { maxShardSize: 20_000 });
  const index = JSON.parse(fs.readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
  const shards = new Set(Object.values(index.weight_map));
  assert.ok(shards.size >= 3, `${shards.size} shards`);
  assert.equal(fs.existsSync(path.join(dir, "model.safetensors")), false);
  const ck = loadCheckpoint(dir);
  sameWeights(m, ck.model);
  m.dispose();
  ck.model.dispose();
});

test("overwriting is atomic: a failed save leaves the old checkpoint intact and no temp files", () => {
  const a = micro();
  seed(8);
  const b = new LlamaModel(presets.micro);
  const dir = path.join(tmp, "atomic", "ckpt");
  saveCheckpoint(dir, a, { extra: { which: "a" } });
  const notSerializable: Tokenizer = { vocabSize: 3, encode: () => [], decode: () => "" };
  assert.throws(
    () => saveCheckpoint(dir, b, { tokenizer: notSerializable, extra: { which: "b" } }),
    /cannot serialize this tokenizer/,
  );
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ["ckpt"], "temp directory removed");
  let ck = loadCheckpoint(dir);
  assert.deepEqual(ck.extra, { which: "a" });
  sameWeights(a, ck.model);
  ck.model.dispose();
  saveCheckpoint(dir, b, { extra: { which: "b" } });
  assert.deepEqual(fs.readdirSync(path.dirname(dir)), ["ckpt"], "old checkpoint removed after the swap");
  ck = loadCheckpoint(dir);
  assert.deepEqual(ck.extra, { which: "b" });
  sameWeights(b, ck.model);
  ck.model.dispose();
  assert.throws(() => saveCheckpoint(dir, b, { overwrite: false }), /already exists\. Pass \{overwrite: true\}/);
  const userDir = path.join(tmp, "atomic", "notes");
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, "todo.txt"), "keep me");
  assert.throws(() => saveCheckpoint(userDir, b), /is not a checkpoint .* refusing to replace it/);
  assert.equal(fs.readFileSync(path.join(userDir, "todo.txt"), "utf8"), "keep me");
  a.dispose();
  b.dispose();
});

test("missing and mis-shaped tensors are named with their shapes before any weight is read", () => {
  const m = micro();
  const dir = path.join(tmp, "broken");
  saveCheckpoint(dir, m);
  const file = path.join(dir, "model.safetensors");
  const sd = readSafetensors(file);
  const { ["model.norm.weight"]: dropped, ...rest } = sd;
  writeSafetensors(file, rest);
  assert.throws(() => loadCheckpoint(dir), /missing tensor "model\.norm\.weight" \(expected shape \[32\]\)/);
  writeSafetensors(file, sd);
  const cfgFile = path.join(dir, "config.json");
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, intermediate_size: 96 }));
  assert.throws(
    () => loadCheckpoint(dir),
    (e: Error & { code?: string }) =>
      e.code === "shape_mismatch" &&
      /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" in model\.safetensors has shape \[64, 32\] but the config expects \[96, 32\]/.test(
        e.message,
      ),
  );
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  writeSafetensors(file, { ...sd, "model.extra.weight": tf.zeros([2]) });
  assert.throws(() => loadCheckpoint(dir), /unexpected tensor "model\.extra\.weight" in model\.safetensors/);
  fs.rmSync(cfgFile);
  assert.throws(() => loadCheckpoint(dir), /cannot read .*config\.json \(ENOENT\)/);
  assert.throws(() => loadCheckpoint(path.join(tmp, "nowhere")), /is not a directory/);
  tf.dispose([dropped, ...Object.values(rest)]);
  m.dispose();
});

test("a HuggingFace-layout download (SmolLM2-style bf16, tied, extra config fields, inv_freq buffers) loads and re-saves its fields", () => {
  const m = micro({ tie_word_embeddings: true, rope_theta: 100000, rms_norm_eps: 1e-5, vocab_size: 274 });
  const dir = path.join(tmp, "smol");
  fs.mkdirSync(dir);
  const sd = m.stateDict();
  const inv = tf.ones([4]);
  writeSafetensors(
    path.join(dir, "model.safetensors"),
    { ...sd, "model.layers.0.self_attn.rotary_emb.inv_freq": inv },
    { dtype: "BF16" },
  );
  // SmolLM2-135M's config.json with the sizes shrunk.
  const config = {
    architectures: ["LlamaForCausalLM"],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 0,
    eos_token_id: 0,
    hidden_act: "silu",
    hidden_size: 32,
    initializer_range: 0.041666666666666664,
    intermediate_size: 64,
    is_llama_config: true,
    max_position_embeddings: 128,
    mlp_bias: false,
    model_type: "llama",
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_interleaved: false,
    rope_scaling: null,
    rope_theta: 100000,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
    transformers_version: "4.42.3",
    use_cache: true,
    vocab_size: 274,
  };
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
  fs.writeFileSync(
    path.join(dir, "generation_config.json"),
    JSON.stringify({ _from_model_config: true, bos_token_id: 0, eos_token_id: 0, transformers_version: "4.42.3" }),
  );
  for (const f of ["tokenizer.json", "tokenizer_config.json"])
    fs.copyFileSync(path.join(__dirname, "fixtures", "tiny-bpe", f), path.join(dir, f));
  const ck = loadCheckpoint(dir);
  sameWeights(m, ck.model, (x) => bf16ToF32(f32ToBf16(x)));
  assert.ok(ck.tokenizer instanceof HfTokenizer);
  assert.deepEqual(ck.tokenizer!.encode("hello world"), [260, 264]);
  assert.equal(ck.config.initializer_range, 0.041666666666666664);
  const out = path.join(tmp, "smol-resaved");
  saveCheckpoint(out, ck.model, { tokenizer: ck.tokenizer });
  const re = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
  assert.equal(re.pretraining_tp, 1);
  assert.equal(re.transformers_version, "4.42.3");
  assert.equal(re.torch_dtype, "float32");
  assert.equal(re.is_llama_config, true);
  tf.dispose([...Object.values(sd), inv]);
  m.dispose();
  ck.model.dispose();
});

test("saving the optimizer lets a resumed run reproduce the next step bit for bit", () => {
  const m = micro();
  const ids = [[1, 2, 3, 4, 5]];
  const loss = (model: LlamaModel) => () =>
    tf.tidy(() => tf.mean(tf.square(model.forward({ ids }).logits))) as tf.Scalar;
  const opt = new AdamW(m.namedVariables(), {
    lr: 0.01,
    weightDecay: 0.1,
    schedule: { type: "cosine", warmupSteps: 1, totalSteps: 10 },
  });
  opt.minimize(loss(m));
  opt.minimize(loss(m));
  const dir = path.join(tmp, "resume");
  saveCheckpoint(dir, m, { optimizer: opt, extra: { step: 2 } });
  opt.minimize(loss(m));
  const ck = loadCheckpoint(dir);
  const st = loadOptimizerState(dir, ck.model);
  assert.equal(st.step, 2);
  assert.deepEqual(st.options.schedule, { type: "cosine", warmupSteps: 1, totalSteps: 10 });
  const opt2 = new AdamW(ck.model.namedVariables(), st.options);
  opt2.setState(st);
  tf.dispose(Object.values(st.tensors));
  opt2.minimize(loss(ck.model));
  sameWeights(m, ck.model);
  assert.throws(() => loadOptimizerState(path.join(tmp, "rt"), ck.model), /has no saved optimizer state/);
  opt.dispose();
  opt2.dispose();
  m.dispose();
  ck.model.dispose();
});
