import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { Rng } from "../../lib/core/random.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { LocalPolicy, type Policy } from "../../lib/rollout/policy.js";
import { record } from "../../lib/data/record.js";
import { responseValues, row, sample } from "../../lib/rollout/rollout.js";
import * as rolloutApi from "../../lib/rollout/index.js";

before(async () => {
  const force = (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  if (tf.getBackend() !== force) await useBackend({ force });
});

const tok = CharTokenizer.fromAlphabet("0123456789+= ");
const model = () =>
  new LlamaModel(
    {
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 64,
      vocab_size: tok.vocabSize,
      max_position_embeddings: 64,
      initializer_range: 0.2,
    },
    { rng: new Rng(3) },
  );

test("sample lays out n samples per prompt: table, verl-style [B, T] matrices and sampling logprobs", async () => {
  const m = model();
  const policy = new LocalPolicy(m, tok);
  const prompts = ["1+2=", "10+20="];
  const ro = await sample(policy, prompts, {
    n: 3,
    maxNewTokens: 6,
    seed: 1,
    promptIds: ["a", "b"],
    columns: { answer: ["3", "30"] },
  });
  assert.equal(ro.size, 6);
  assert.equal(ro.n, 3);
  assert.deepEqual(ro.group, [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(ro.table.columnNames(), [
    "prompt_id",
    "sample",
    "group",
    "prompt",
    "response",
    "response_length",
    "finish_reason",
    "answer",
  ]);
  assert.deepEqual(ro.table.array("prompt_id"), ["a", "a", "a", "b", "b", "b"]);
  assert.deepEqual(ro.table.array("sample"), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(ro.table.array("answer"), ["3", "3", "3", "30", "30", "30"]);
  assert.deepEqual(ro.table.array("prompt"), [...Array(3).fill("1+2="), ...Array(3).fill("10+20=")]);
  const P = ro.promptLength,
    R = ro.responseLength;
  assert.equal(P, 6);
  assert.equal(R, Math.max(...ro.responseIds.map((r) => r.length)));
  for (let b = 0; b < 6; b++) {
    const p = ro.promptTokenIds[b],
      r = ro.responseIds[b];
    assert.equal(ro.ids[b].length, P + R);
    assert.deepEqual(ro.ids[b].slice(P - p.length, P), p, "prompt ends at column P");
    assert.deepEqual(ro.ids[b].slice(P, P + r.length), r, "response starts at column P");
    assert.deepEqual(
      ro.attentionMask[b],
      ro.ids[b].map((_: number, t: number): number => +(t >= P - p.length && t < P + r.length)),
    );
    assert.deepEqual(
      ro.responseMask[b],
      ro.ids[b].map((_: number, t: number): number => +(t >= P && t < P + r.length)),
    );
    assert.equal(ro.table.get("response_length", b), r.length);
    assert.equal(ro.table.get("response", b), ro.responses[b]);
    assert.ok(r.length <= 6);
    assert.equal(ro.finishReason[b] === "stop", r[r.length - 1] === tok.eosTokenId);
  }
  // the stored sampling logprobs are what the model gives the same tokens when re-scored
  const lp = logprobs(m, ro);
  for (let b = 0; b < 6; b++)
    for (let t = 0; t < P + R; t++) assert.ok(Math.abs(lp.logp[b][t] - ro.logprobs[b][t]) < 1e-4, `${b},${t}`);
  assert.deepEqual(
    responseValues(ro, ro.logprobs),
    ro.responseIds.map((_, b) => row(ro, b).logprobs),
  );
  const r4 = row(ro, 4);
  assert.deepEqual([r4.promptId, r4.group, r4.sample, r4.prompt], ["b", 1, 1, "10+20="]);
  assert.equal(ro.metrics["rollout/lengthMean"], ro.responseIds.reduce((a, r) => a + r.length, 0) / 6);
  assert.equal(ro.metrics["rollout/truncFrac"], ro.finishReason.filter((f) => f === "length").length / 6);
  m.dispose();
});

test("same seed, same rollout; a Policy is anything with generate/score/tokenizer", async () => {
  const m = model();
  const local = new LocalPolicy(m, tok);
  const a = await sample(local, ["1+1="], { n: 4, maxNewTokens: 5, seed: 9 });
  const b = await sample(local, ["1+1="], { n: 4, maxNewTokens: 5, seed: 9 });
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.table.objects(), b.table.objects());
  let calls = 0;
  const wrapped: Policy = {
    name: "wrapped",
    tokenizer: tok,
    generate: (p, o) => (calls++, local.generate(p, o)),
    score: (x, o) => local.score(x, o),
  };
  const c = await sample(wrapped, ["1+1="], { n: 4, maxNewTokens: 5, seed: 9 });
  assert.equal(calls, 1);
  assert.deepEqual(c.ids, a.ids);
  const s = await wrapped.score(c, { topK: 2 });
  assert.equal(s.topK!.ids[0].length, c.ids[0].length);
  m.dispose();
});

test("sample checks its inputs", async () => {
  const m = model();
  const policy = new LocalPolicy(m, tok);
  await assert.rejects(sample(policy, []), /input must be a non-empty array/);
  await assert.rejects(
    sample(policy, ["1="], { promptIds: [1, 2] }),
    /options.promptIds has array\(2\) entries but there are 1 prompts/,
  );
  await assert.rejects(sample(policy, ["1="], { columns: { x: [] } }), /options.columns.x/);
  await assert.rejects(
    sample(policy, ["1="], { max_new_tokens: 4 } as never),
    /rollout.sample: options.max_new_tokens is the vLLM \/ HF spelling \(got max_new_tokens\)\. Use maxNewTokens/,
  );
  await assert.rejects(sample(policy, ["1="], { top_p: 0.9 } as never), /Use topP/);
  await assert.rejects(sample(policy, ["1="], { chatTemplate: "plain" }), /chatTemplate applies to verl records/);
  await assert.rejects(
    sample(policy, [record({ data_source: "x", prompt: "1=", ground_truth: "1" }), "2=" as never]),
    /input 1 is not a verl record/,
  );
  assert.throws(
    () => new LocalPolicy(m, CharTokenizer.fromAlphabet("abcdefghijklmnopqrstuvwxyz")),
    /tokenizer has 29 ids but the model's vocab_size is 16/,
  );
  m.dispose();
});

test("sample takes verl records: the tokenizer's chat template once, ro.records, data_source / ground_truth / extra_info columns", async () => {
  const m = model();
  const plainTok = CharTokenizer.fromAlphabet("0123456789+= ", { chatTemplate: "plain" });
  const policy = new LocalPolicy(m, plainTok);
  const recs = [
    record({ data_source: "cellrl/arith", prompt: "1+2=", ground_truth: "3", extra_info: { index: 0 } }),
    record({ data_source: "cellrl/arith", prompt: "10+20=", ground_truth: "30", extra_info: { index: 1 } }),
  ];
  const ro = await sample(policy, recs, { n: 2, maxNewTokens: 3, seed: 4 });
  assert.deepEqual(ro.records, recs);
  assert.deepEqual(ro.prompts, ["1+2=", "10+20="], "the plain template renders a user turn as its text");
  assert.deepEqual(ro.table.columnNames(), [
    "prompt_id",
    "sample",
    "group",
    "prompt",
    "response",
    "response_length",
    "finish_reason",
    "data_source",
    "ground_truth",
    "extra_info",
  ]);
  assert.deepEqual(ro.table.array("ground_truth"), ["3", "3", "30", "30"]);
  assert.deepEqual(ro.table.array("data_source"), Array(4).fill("cellrl/arith"));
  assert.deepEqual(ro.table.get("extra_info", 3), { index: 1 });
  assert.equal(row(ro, 2).record, recs[1]);
  // the same samples as the prompt texts give (same template output, same seed)
  const texts = await sample(policy, ["1+2=", "10+20="], { n: 2, maxNewTokens: 3, seed: 4 });
  assert.deepEqual(texts.ids, ro.ids);
  assert.equal(texts.records, null);
  // an arquero table of records works too; a named template or formatPrompt replaces the tokenizer's
  const aq = await import("arquero");
  const fromTable = await sample(policy, aq.from(recs), { n: 2, maxNewTokens: 3, seed: 4 });
  assert.deepEqual(fromTable.ids, ro.ids);
  const jinja = await sample(policy, recs, {
    maxNewTokens: 1,
    chatTemplate: "{% for m in messages %}{{ m.content }} {% endfor %}",
  });
  assert.deepEqual(jinja.prompts, ["1+2= ", "10+20= "]);
  assert.equal(jinja.sampling.chatTemplate, "{% for m in messages %}{{ m.content }} {% endfor %}");
  const custom = await sample(policy, recs, {
    maxNewTokens: 1,
    formatPrompt: (r) => `${r.reward_model.ground_truth}=`,
  });
  assert.deepEqual(custom.prompts, ["3=", "30="]);
  // no template at all: the contents joined by a blank line
  const bare = await sample(new LocalPolicy(m, tok), recs, { maxNewTokens: 1 });
  assert.deepEqual(bare.prompts, ["1+2=", "10+20="]);
  m.dispose();
});

test("one name per function: rollout.rollout is gone, rollout.sample stays", () => {
  assert.equal((rolloutApi as Record<string, unknown>).rollout, undefined);
  assert.equal(typeof rolloutApi.sample, "function");
});
