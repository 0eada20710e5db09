// r1's data_process and generation steps: the shipped eval sets as records (GPQA only ever from gzip), and n samples
// per prompt from a tiny local Policy with the sampling settings recorded. No GPQA item text is printed or written in
// plain text here: comparisons of GPQA content are booleans.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { Rng } from "../../lib/core/random.js";
import { readJsonl } from "../../lib/data/jsonl.js";
import type { VerlRecord } from "../../lib/data/record.js";
import { sample } from "../../lib/rollout/rollout.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { LocalPolicy } from "../../lib/rollout/policy.js";
import { datasetsDir, evalSets, prepare, prepareGpqa, writeEvalRecords } from "../../lib/eval/eval-sets.js";
import { generateRecords as generate } from "../../lib/eval/generate.js";
import { register } from "../../lib/reward/index.js";
import { evaluate } from "../../lib/eval/evaluate.js";
import { needsShared, shared } from "../support/shared-data.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-eval-prep-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
// AReaL's raw GPQA file (gzip) is not shipped: datasets/ holds only the records made from it.
const RAW_GPQA_REL = "data/areal/gpqa_diamond_test.jsonl.gz";

before(async () => {
  const force = (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  if (tf.getBackend() !== force) await useBackend({ force });
});

test("prepare: r1's tasks as one list of records, each set indexed from 0, with limits and re-templating of math sets", () => {
  const r1 = prepare("r1");
  assert.equal(r1.length, 30 + 198);
  assert.deepEqual([...new Set(r1.map((r) => r.data_source))], ["Maxwell-Jia/AIME_2024", "Idavidrein/gpqa"]);
  assert.deepEqual(
    r1.filter((r) => r.extra_info?.index === 0).map((r) => r.extra_info?.eval_set),
    ["aime2024", "gpqa_diamond"],
  );
  assert.equal(prepare("mbpp").length, 500, "MBPP test split: task ids 11-510");
  assert.equal(prepare(["math500", "gsm8k"], { limit: 5 }).length, 10);
  assert.deepEqual(
    prepare("code")
      .map((r) => r.ability)
      .filter((a) => a !== "code"),
    [],
  );
  const boxed = prepare("r1", { template: "verl-boxed", limit: 3 });
  const plain = prepare("r1", { limit: 3 });
  // AIME: r1's verbatim question + the boxed instruction; GPQA untouched (multiple choice keeps its own template)
  assert.equal(
    boxed[0].prompt[0].content,
    `${plain[0].prompt[0].content} Let's think step by step and output the final answer within \\boxed{}.`,
  );
  assert.equal(boxed[0].extra_info?.template, "verl-boxed");
  assert.ok(
    boxed[3].prompt[0].content === plain[3].prompt[0].content && boxed[3].extra_info?.template === undefined,
    "GPQA prompts are not re-templated",
  );
  assert.throws(() => prepare("aime2042"), /unknown eval set "aime2042".*Did you mean "aime2024"/s);
  assert.throws(() => prepare("r1", { limit: 0 }), /limit must be a whole number >= 1/);
  assert.ok(evalSets.names().includes("code_contests"));
});

test(
  "GPQA: rebuilt from its gzip in memory; r1's shuffle replays from a seed",
  needsShared(RAW_GPQA_REL, "the raw source; datasets/ has the records made from it"),
  () => {
    const RAW_GPQA = shared(RAW_GPQA_REL);
    const shipped = readJsonl<VerlRecord>(path.join(datasetsDir, "gpqa_diamond_test.jsonl.gz"));
    const fixed = prepareGpqa(RAW_GPQA);
    assert.equal(fixed.length, 198);
    assert.ok(
      fixed.every(
        (r, i) =>
          r.prompt[0].content === shipped[i].prompt[0].content &&
          r.reward_model.ground_truth === shipped[i].reward_model.ground_truth,
      ),
      "fixed order equals the shipped records",
    );
    const a = prepareGpqa(RAW_GPQA, { shuffleSeed: 7 });
    const b = prepareGpqa(RAW_GPQA, { shuffleSeed: 7 });
    const c = prepareGpqa(RAW_GPQA, { shuffleSeed: 8 });
    assert.ok(
      a.every((r, i) => r.prompt[0].content === b[i].prompt[0].content),
      "same seed, same letters",
    );
    assert.ok(
      a.some((r, i) => r.reward_model.ground_truth !== c[i].reward_model.ground_truth),
      "another seed moves answers",
    );
    const letters = new Map<string, number>();
    for (const r of a)
      letters.set(String(r.reward_model.ground_truth), (letters.get(String(r.reward_model.ground_truth)) ?? 0) + 1);
    assert.deepEqual([...letters.keys()].sort(), ["A", "B", "C", "D"]);
    // the option under the gold letter is the same text as under the source's gold letter
    const optionText = (r: VerlRecord) => {
      const line = r.prompt[0].content.split("\n").find((l) => l.startsWith(`${r.reward_model.ground_truth}) `));
      return line?.slice(3);
    };
    assert.ok(
      a.every((r, i) => optionText(r) !== undefined && optionText(r) === optionText(fixed[i])),
      "gold option text survives the shuffle",
    );
  },
);

test("GPQA: a source that is not gzip and plain-text outputs are refused", () => {
  const records = readJsonl<VerlRecord>(path.join(datasetsDir, "gpqa_diamond_test.jsonl.gz")).slice(0, 2);
  const plainCopy = path.join(tmp, "not-gzip.jsonl");
  fs.writeFileSync(plainCopy, "{}\n");
  assert.throws(() => prepareGpqa(plainCopy), /is not gzip/);
  assert.throws(
    () => writeEvalRecords(path.join(tmp, "gpqa.jsonl"), records),
    /include GPQA and .*gpqa\.jsonl is not compressed/,
  );
  assert.equal(fs.existsSync(path.join(tmp, "gpqa.jsonl")), false);
  writeEvalRecords(path.join(tmp, "gpqa.jsonl.gz"), records);
  assert.equal(fs.readFileSync(path.join(tmp, "gpqa.jsonl.gz"))[0], 0x1f);
});

const tok = CharTokenizer.fromAlphabet("0123456789+= ");
const tiny = () =>
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
register(
  "eval-test-digit",
  (response, gt) => ({
    score: response.includes(String(gt)) ? 1 : 0,
    details: { rule: "contains", extracted: response.trim() || null },
  }),
  { dataSources: ["eval-test/digits"] },
);

test("generate: n samples per prompt from a Policy, finish reasons and token lengths kept, settings recorded, seeded", async () => {
  const m = tiny();
  const policy = new LocalPolicy(m, tok, { name: "tiny" });
  const recs: VerlRecord[] = ["1+2=", "3+4=", "5+6="].map((q, i) => ({
    data_source: "eval-test/digits",
    prompt: [{ role: "user", content: q }],
    reward_model: { style: "rule", ground_truth: String(i) },
    extra_info: { split: "test", index: i },
  }));
  const before = tf.memory().numTensors;
  const gen = await generate(policy, recs, { n: 3, maxNewTokens: 5, temperature: 1, topP: 1, batchSize: 2, seed: 11 });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  assert.equal(gen.length, 3);
  for (const g of gen) {
    assert.equal(g.responses.length, 3);
    assert.equal(g.finish_reasons?.length, 3);
    g.response_lengths?.forEach((len, j) => {
      assert.ok(len >= 1 && len <= 5);
      if (g.finish_reasons?.[j] === "length") assert.equal(len, 5, "cut at max_new_tokens");
      else assert.equal(g.finish_reasons?.[j], "stop");
    });
  }
  assert.deepEqual(gen[0].extra_info?.generation, {
    policy: "tiny",
    n: 3,
    temperature: 1,
    top_p: 1,
    top_k: 0,
    min_p: 0,
    max_new_tokens: 5,
    seed: 11,
    stop: [],
    prompt_format: "contents joined",
  });
  const again = await generate(policy, recs, {
    n: 3,
    maxNewTokens: 5,
    temperature: 1,
    topP: 1,
    batchSize: 2,
    seed: 11,
  });
  assert.deepEqual(
    again.map((g) => g.responses),
    gen.map((g) => g.responses),
    "same seed, same samples",
  );
  await assert.rejects(generate(policy, recs, { n: 2, temperature: 0 }), /temperature 0 with n = 2/);
  await assert.rejects(
    generate(policy, recs, { max_new_tokens: 5 } as never),
    /evals.generateRecords: options.max_new_tokens is the vLLM \/ HF spelling \(got max_new_tokens\)\. Use maxNewTokens/,
  );
  // one sampling path: evals.generate is rollout.sample on the records, laid out per record
  const whole = await generate(policy, recs, {
    n: 3,
    maxNewTokens: 5,
    temperature: 1,
    topP: 1,
    batchSize: 8,
    seed: 11,
  });
  const ro = await sample(policy, recs, { n: 3, maxNewTokens: 5, temperature: 1, topP: 1, rng: new Rng(11) });
  assert.deepEqual(
    whole.flatMap((g) => g.responses),
    ro.responses,
  );
  // the whole path: generate -> evaluate, with truncation known
  const run = await evaluate(gen);
  const truncated = gen.reduce((s, g) => s + (g.finish_reasons ?? []).filter((f) => f === "length").length, 0);
  assert.equal(run.summary.rows[0].truncated, truncated);
  assert.equal(run.summary.rows[0].n, 3);
  assert.equal(run.settings?.policy, "tiny");
  assert.ok(run.report.toMarkdown().includes("## Sampling settings"));
  assert.equal(run.lengths.unit, "tokens");
});
