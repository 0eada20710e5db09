import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CellrlError } from "../../lib/core/errors.js";
import { seed } from "../../lib/core/random.js";
import { llamaConfig, presets, swigluWidth } from "../../lib/model/config.js";
import { LlamaModel, paramSpecs } from "../../lib/model/llama.js";
import { maxAbsDiff, micro, randomModel, referenceLogits, setup } from "./model-helpers.js";

before(setup);

const errorMatching = (code: string, re: RegExp) => (e: unknown) =>
  e instanceof CellrlError && e.code === code && re.test(e.message);

test("llamaConfig fills HF defaults, derives head_dim, and uses Qwen2 defaults for qwen2", () => {
  const c = llamaConfig({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 10 });
  assert.equal(c.head_dim, 16);
  assert.equal(c.num_key_value_heads, 4);
  assert.equal(c.intermediate_size, 160); // 8/3 * 64 = 170.67 -> multiple of 32 below
  assert.equal(c.rope_theta, 10000);
  assert.equal(c.attention_bias, false);
  assert.deepEqual(c.architectures, ["LlamaForCausalLM"]);
  const q = llamaConfig({ ...presets.micro, model_type: "qwen2" });
  assert.equal(q.attention_bias, true);
  assert.equal(q.rope_theta, 1000000);
  assert.deepEqual(q.architectures, ["Qwen2ForCausalLM"]);
  const t = llamaConfig("tiny");
  assert.deepEqual(
    [t.hidden_size, t.num_hidden_layers, t.num_attention_heads, t.vocab_size, t.intermediate_size],
    [128, 4, 4, 64, 320],
  );
  assert.equal(swigluWidth(256), 672);
});

test("bad configs fail with the field and the fix", () => {
  assert.throws(
    () => llamaConfig({ ...presets.micro, hidden_size: 30 }),
    errorMatching(
      "invalid_option",
      /hidden_size .*got 30; expected a multiple of num_attention_heads \(4\).*set head_dim/,
    ),
  );
  assert.throws(
    () => llamaConfig({ ...presets.micro, num_key_value_heads: 3 }),
    errorMatching("invalid_option", /num_key_value_heads .*got 3; expected a divisor of num_attention_heads \(4\)/),
  );
  assert.throws(
    () => llamaConfig({ ...presets.micro, vocab_size: 0 }),
    /vocab_size is invalid \(got 0; expected a positive integer\)/,
  );
  assert.throws(() => llamaConfig({ ...presets.micro, model_type: "gpt2" } as never), /model_type is invalid/);
  assert.throws(
    () => llamaConfig({ ...presets.micro, eos_token_id: 99 }),
    /eos_token_id is invalid \(got 99; expected an integer in \[0, 32\)/,
  );
  assert.throws(
    () => llamaConfig({ ...presets.micro, rope_scaling: { rope_type: "yarn" } as never }),
    /rope_scaling.rope_type/,
  );
  assert.throws(
    () => llamaConfig("huge"),
    errorMatching("unknown_name", /unknown preset "huge" \(known: micro, tiny, small\)/),
  );
});

test("forward matches a naive HF-semantics reference (GQA, qkv bias, untied head) within 1e-4", () => {
  const m = randomModel({ ...micro, model_type: "qwen2", rope_theta: 10000 });
  const ids = [3, 7, 1, 22, 9, 4, 4, 15];
  const { logits } = m.forward({ ids: [ids] });
  const ref = referenceLogits(m, ids);
  assert.ok(maxAbsDiff(logits.dataSync(), ref.flat()) < 1e-4, `max diff ${maxAbsDiff(logits.dataSync(), ref.flat())}`);
  logits.dispose();
  m.dispose();
});

test("forward matches the reference for a tied Llama with o_proj bias", () => {
  const m = randomModel({ ...micro, num_key_value_heads: 1, tie_word_embeddings: true, attention_bias: true }, 2);
  assert.ok(m.namedVariables().has("model.layers.0.self_attn.o_proj.bias"));
  assert.ok(!m.namedVariables().has("lm_head.weight"));
  const ids = [0, 5, 11, 2, 23];
  const { logits } = m.forward({ ids: [ids] });
  assert.ok(maxAbsDiff(logits.dataSync(), referenceLogits(m, ids).flat()) < 1e-4);
  logits.dispose();
  m.dispose();
});

test("left and right padding give the unpadded logits at real positions; hidden states have [B, T, D]", () => {
  const m = randomModel(micro, 3);
  const seq = [4, 8, 15, 16, 23];
  const plain = m.forward({ ids: [seq] }).logits;
  const out = m.forward(
    {
      ids: [
        [0, 0, ...seq],
        [...seq, 0, 0],
      ],
      attentionMask: [
        [0, 0, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 0, 0],
      ],
    },
    { hidden: true },
  );
  assert.deepEqual(out.logits.shape, [2, 7, 24]);
  assert.deepEqual(out.hidden!.shape, [2, 7, 32]);
  const p = plain.arraySync()[0];
  const [left, right] = out.logits.arraySync();
  assert.ok(maxAbsDiff(left.slice(2).flat(), p.flat()) < 1e-5);
  assert.ok(maxAbsDiff(right.slice(0, 5).flat(), p.flat()) < 1e-5);
  tf.dispose([plain, out.logits, out.hidden!]);
  m.dispose();
});

test("forward leaves no tensors behind besides its outputs", () => {
  const m = randomModel(micro);
  const n0 = tf.memory().numTensors;
  const out = m.forward({ ids: [[1, 2, 3]] }, { hidden: true });
  assert.equal(tf.memory().numTensors, n0 + 2);
  tf.dispose([out.logits, out.hidden!]);
  assert.equal(tf.memory().numTensors, n0);
  m.dispose();
});

test("bad inputs fail clearly instead of producing silent zeros", () => {
  const m = randomModel(micro);
  assert.throws(
    () => m.forward({ ids: [[1, 99]] }),
    /inputs.ids\[0\]\[1\] is out of range \(got 99; expected an integer in \[0, 24\)\)/,
  );
  assert.throws(() => m.forward({ ids: [[1, 2], [3]] }), /rows have different lengths/);
  assert.throws(
    () => m.forward({ ids: [[1, 2]], attentionMask: [[1, 1, 1]] }),
    /attentionMask has shape \[1, 3\] but the ids have \[1, 2\]/,
  );
  assert.throws(() => m.forward({ ids: [[1.5, 2]] }), /not an integer|out of range/);
  assert.throws(() => m.forward({ ids: [Array(65).fill(1)] }), /reaches position 64 .*max_position_embeddings = 64/);
  m.dispose();
  assert.throws(() => m.forward({ ids: [[1]] }), /disposed/);
});

test("stateDict is in HF layout and names; loadStateDict round-trips bit-exactly", () => {
  const a = randomModel(micro, 4);
  const sd = a.stateDict();
  assert.deepEqual(sd["model.layers.0.self_attn.q_proj.weight"].shape, [32, 32]);
  assert.deepEqual(sd["model.layers.0.self_attn.k_proj.weight"].shape, [16, 32]); // [out = KV*hd, in = D]
  assert.deepEqual(sd["model.layers.1.mlp.gate_proj.weight"].shape, [48, 32]);
  assert.deepEqual(sd["model.layers.1.mlp.down_proj.weight"].shape, [32, 48]);
  assert.deepEqual(sd["lm_head.weight"].shape, [24, 32]);
  assert.deepEqual(
    Object.keys(sd),
    paramSpecs(a.config).map((s) => s.name),
  );
  // HF [out, in] is the transpose of the stored [in, out]
  const stored = a.namedVariables().get("model.layers.0.mlp.down_proj.weight")!.arraySync() as number[][];
  assert.equal((sd["model.layers.0.mlp.down_proj.weight"].arraySync() as number[][])[5][7], stored[7][5]);
  const b = new LlamaModel(micro, { init: "zeros" });
  b.loadStateDict(sd);
  const ids = [[1, 2, 3, 4]];
  const la = a.forward({ ids }).logits,
    lb = b.forward({ ids }).logits;
  assert.deepEqual(Array.from(la.dataSync()), Array.from(lb.dataSync()));
  tf.dispose([la, lb, ...Object.values(sd)]);
  a.dispose();
  b.dispose();
});

test("loadStateDict names the tensor and both shapes, and lists missing and unexpected names", () => {
  const m = new LlamaModel(micro, { init: "zeros" });
  const sd = m.stateDict();
  const wrong = { ...sd, "model.layers.0.self_attn.q_proj.weight": tf.zeros([32, 16]) };
  assert.throws(
    () => m.loadStateDict(wrong),
    errorMatching(
      "shape_mismatch",
      /tensor "model.layers.0.self_attn.q_proj.weight" has shape \[32, 16\] but the model expects \[32, 32\] \(HF layout \[out, in\]\)/,
    ),
  );
  const partial: Record<string, tf.Tensor> = { ...sd, "model.extra.weight": tf.zeros([1]) };
  delete partial["model.norm.weight"];
  assert.throws(
    () => m.loadStateDict(partial),
    errorMatching("not_found", /missing: model.norm.weight; unexpected: model.extra.weight/),
  );
  assert.deepEqual(m.loadStateDict(partial, { strict: false }), {
    missing: ["model.norm.weight"],
    unexpected: ["model.extra.weight"],
  });
  tf.dispose([...Object.values(sd), wrong["model.layers.0.self_attn.q_proj.weight"], partial["model.extra.weight"]]);
  m.dispose();
});

test("clone copies weights into independent, frozen variables; freeze and numParameters", () => {
  seed(5);
  const m = new LlamaModel(micro);
  const D = 32,
    V = 24,
    I = 48,
    KVd = 16;
  const perLayer = D * D + 2 * D * KVd + D * D + 3 * D * I + 2 * D;
  assert.equal(m.numParameters(), V * D + 2 * perLayer + D + D * V);
  const ref = m.clone();
  assert.equal(ref.trainableVariables().length, 0);
  const w = m.namedVariables().get("model.norm.weight")!;
  const before = Array.from(ref.namedVariables().get("model.norm.weight")!.dataSync());
  const t = tf.fill(w.shape, 3);
  w.assign(t);
  t.dispose();
  assert.deepEqual(Array.from(ref.namedVariables().get("model.norm.weight")!.dataSync()), before);
  m.freeze(["model.embed_tokens.*", /layers\.0\./]);
  assert.equal(m.numParameters({ trainableOnly: true }), m.numParameters() - V * D - perLayer);
  assert.throws(() => m.freeze("model.nothing.*"), /matches no parameter/);
  m.unfreeze();
  assert.equal(m.trainableVariables().length, m.namedVariables().size);
  assert.match(String(m), /LlamaModel\(llama: 2 layers, hidden 32, heads 4\/2 kv/);
  m.dispose();
  ref.dispose();
});

test("the same seed gives the same initial weights", () => {
  seed(11);
  const a = new LlamaModel(micro);
  seed(11);
  const b = new LlamaModel(micro);
  const e = "model.embed_tokens.weight";
  assert.deepEqual(
    Array.from(a.namedVariables().get(e)!.dataSync()),
    Array.from(b.namedVariables().get(e)!.dataSync()),
  );
  const std = tf.tidy(() => tf.moments(a.namedVariables().get(e)!).variance.sqrt().dataSync()[0]);
  assert.ok(Math.abs(std - 0.15) < 0.02, `init std ${std}`);
  a.dispose();
  b.dispose();
});
