// cellrl's transformer against an independent engine: every shipped checkpoint (and random models covering GQA,
// Qwen2 biases, an untied head and llama3 / linear RoPE scaling) is exported with model.saveGguf (fp32) and run by
// llama.cpp through node-llama-cpp. Per-token logprobs must equal model.logprobs within 1e-3 (they agree to ~1e-5 with
// the F32 KV cache), greedy and seeded samples must be the same tokens, and llama.cpp must tokenize task text into
// the ids cellrl's tokenizer gives. Skipped only when the optional node-llama-cpp package is not installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadCheckpoint } from "../../lib/model/checkpoint.js";
import { generate } from "../../lib/model/generate.js";
import { saveGguf } from "../../lib/model/gguf.js";
import { logprobs } from "../../lib/model/logprobs.js";
import type { LlamaModel } from "../../lib/model/llama.js";
import type { Tokenizer } from "../../lib/model/tokenizer-types.js";
import { loadTokenizer } from "../../lib/model/tokenizer-io.js";
import { localTeacher } from "../../lib/distill/teacher.js";
import { records } from "../../lib/tasks/registry.js";
import { LlamaCppPolicy } from "../../lib/remote/llama-cpp-policy.js";
import { GgufTokenizer } from "../../lib/remote/llama-cpp.js";
import { micro, randomModel, setup } from "../model/model-helpers.js";

const ROOT = path.join(__dirname, "..", "..");
const CKPTS = path.join(ROOT, "datasets", "checkpoints");
const TOL = 1e-3;

let installed = true;
try {
  require.resolve("node-llama-cpp");
} catch {
  installed = false;
}
const skip = installed ? false : "node-llama-cpp (optional dependency) is not installed";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-llamacpp-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

interface Manifest {
  checkpoints: {
    name: string;
    dir: string;
    data: { task: string; knobs: Record<string, unknown>; heldout: { maxNewTokens: number } };
  }[];
}

/** Right-padded [B, T] batch of prompt + response rows, with the response mask. */
function batchOf(prompts: number[][], responses: number[][]) {
  const rows = prompts.map((p, i) => [...p, ...responses[i]]);
  const T = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...r, ...new Array(T - r.length).fill(0)]),
    attentionMask: rows.map((r) => [...r.map(() => 1), ...new Array(T - r.length).fill(0)]),
    responseMask: rows.map((r, i) =>
      Array.from({ length: T }, (_, t) => (t >= prompts[i].length && t < r.length ? 1 : 0)),
    ),
  };
}

/** The largest |logp| difference over positions both mask, and how many there were. */
function compare(a: { logp: number[][]; mask: number[][] }, b: { logp: number[][]; mask: number[][] }) {
  let max = 0;
  let n = 0;
  a.logp.forEach((row, i) =>
    row.forEach((v, t) => {
      assert.equal(a.mask[i][t], b.mask[i][t], `mask [${i}, ${t}]`);
      if (!a.mask[i][t]) return;
      n++;
      max = Math.max(max, Math.abs(v - b.logp[i][t]));
    }),
  );
  return { max, n };
}

/**
 * Export, load in llama.cpp, and check logprobs (all positions and top-5), greedy and seeded samples against cellrl.
 */
async function checkParity(label: string, m: LlamaModel, tok: Tokenizer, prompts: number[][], maxNewTokens: number) {
  const file = path.join(tmp, `${label}.gguf`);
  saveGguf(file, m, { tokenizer: tok });
  const policy = await LlamaCppPolicy.load(file, { tokenizer: tok, parallel: 2 });
  try {
    // seeded samples: same per-row streams as model.generate, so the same tokens
    const opts = { n: 3, seed: 11, temperature: 1, maxNewTokens };
    const ours = generate(m, prompts, { ...opts, tokenizer: tok });
    const theirs = await policy.generate(prompts, opts);
    assert.deepEqual(theirs.ids, ours.ids, `${label}: seeded samples`);
    let dRaw = 0;
    theirs.rawLogprobs.forEach((r, i) =>
      r.forEach((v, j) => (dRaw = Math.max(dRaw, Math.abs(v - ours.rawLogprobs[i][j])))),
    );
    assert.ok(dRaw < TOL, `${label}: sampled-token logprobs differ by ${dRaw}`);
    // greedy continuations
    const g1 = generate(m, prompts, { temperature: 0, maxNewTokens, tokenizer: tok });
    const g2 = await policy.generate(prompts, { temperature: 0, maxNewTokens });
    assert.deepEqual(g2.ids, g1.ids, `${label}: greedy continuations`);
    // every position of prompt + sampled response, and the top-5 alternatives
    const batch = batchOf(ours.promptTokenIds, ours.ids);
    const all = { ids: batch.ids, attentionMask: batch.attentionMask };
    const a = logprobs(m, all, { topK: 5 });
    const b = await policy.score(all, { topK: 5 });
    const { max, n } = compare(b, a);
    assert.ok(n > prompts.length * 3, `${label}: scored ${n} positions`);
    assert.ok(max < TOL, `${label}: llama.cpp and cellrl logprobs differ by up to ${max} over ${n} positions`);
    let dEnt = 0;
    let dTop = 0;
    b.entropy!.forEach((r, i) => r.forEach((v, t) => (dEnt = Math.max(dEnt, Math.abs(v - a.entropy![i][t])))));
    b.topK!.logp.forEach((r, i) =>
      r.forEach((v, t) => v.forEach((x, k) => (dTop = Math.max(dTop, Math.abs(x - a.topK!.logp[i][t][k]))))),
    );
    assert.ok(dEnt < TOL && dTop < TOL, `${label}: entropy differs by ${dEnt}, top-5 logprobs by ${dTop}`);
    // the response mask and a temperature are honoured as model.logprobs honours them
    const r1 = logprobs(m, batch, { temperature: 0.7 });
    const r2 = await policy.score(batch, { temperature: 0.7 });
    assert.ok(compare(r2, r1).max < TOL, `${label}: response-masked logprobs at temperature 0.7`);
    return { max, n };
  } finally {
    await policy.dispose();
  }
}

test(
  "every shipped checkpoint: llama.cpp logprobs equal cellrl's within 1e-3; greedy and seeded samples agree",
  { skip },
  async () => {
    await setup();
    const manifest = JSON.parse(fs.readFileSync(path.join(CKPTS, "manifest.json"), "utf8")) as Manifest;
    assert.ok(manifest.checkpoints.length >= 4);
    const report: string[] = [];
    for (const c of manifest.checkpoints) {
      const ck = loadCheckpoint(path.join(CKPTS, c.dir), { trainable: false });
      const tok = ck.tokenizer!;
      const recs = records(c.data.task, 6, { seed: 1, unique: true, split: "test", ...c.data.knobs });
      const prompts = recs.map((r) => tok.encode(r.prompt[0].content));
      const { max, n } = await checkParity(c.name, ck.model, tok, prompts, c.data.heldout.maxNewTokens);
      report.push(`${c.name}: max |Δlogp| ${max.toExponential(1)} over ${n} positions`);
      ck.model.dispose();
    }
    console.log(report.join("\n"));
  },
);

test("random models: GQA, Qwen2 biases with an untied head, llama3 and linear RoPE scaling", { skip }, async () => {
  await setup();
  const tok = loadTokenizer(path.join(__dirname, "..", "model", "fixtures", "tiny-bpe"));
  const V = tok.vocabSize;
  const prompts = ["hello world", "the world 12", "hello the"].map((s) => tok.encode(s));
  const cases: [string, Record<string, unknown>][] = [
    ["gqa-llama", { ...micro, vocab_size: V, initializer_range: 0.3 }],
    [
      "qwen2-untied",
      { ...micro, model_type: "qwen2", vocab_size: V, tie_word_embeddings: false, initializer_range: 0.3 },
    ],
    ["llama-bias", { ...micro, vocab_size: V, attention_bias: true, num_key_value_heads: 4, initializer_range: 0.3 }],
    [
      "llama3-rope",
      {
        ...micro,
        vocab_size: V,
        initializer_range: 0.3,
        rope_theta: 500000,
        rope_scaling: {
          rope_type: "llama3",
          factor: 8,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 8,
        },
      },
    ],
    ["linear-rope", { ...micro, vocab_size: V, initializer_range: 0.3, rope_scaling: { type: "linear", factor: 4 } }],
  ];
  for (const [label, cfg] of cases) {
    const m = randomModel(cfg, 9);
    await checkParity(label, m, tok, prompts, 12);
    m.dispose();
  }
});

test(
  "the exported vocabulary tokenizes text in llama.cpp exactly as cellrl does (char and byte-level BPE)",
  { skip },
  async () => {
    await setup();
    const ck = loadCheckpoint(path.join(CKPTS, "sort5-base"), { trainable: false });
    const cases: [string, LlamaModel, Tokenizer, string[]][] = [
      ["sort5-vocab", ck.model, ck.tokenizer!, ["sort 46972=", "sort 0 1=", "abc xyz"]],
    ];
    const bpe = loadTokenizer(path.join(__dirname, "..", "model", "fixtures", "tiny-bpe"));
    const q = randomModel({ ...micro, model_type: "qwen2", vocab_size: bpe.vocabSize }, 2);
    cases.push(["bpe-vocab", q, bpe, ["hello world", "the world 12 hello", "ab  12\nhello"]]);
    for (const [label, m, tok, texts] of cases) {
      const file = path.join(tmp, `${label}.gguf`);
      saveGguf(file, m, { tokenizer: tok });
      // no tokenizer.json next to the file: the policy uses the GGUF vocabulary through llama.cpp
      const policy = await LlamaCppPolicy.load(file);
      try {
        assert.ok(policy.tokenizer instanceof GgufTokenizer, label);
        assert.equal(policy.tokenizer.vocabSize, m.config.vocab_size);
        for (const s of texts) {
          assert.deepEqual(policy.tokenizer.encode(s), tok.encode(s), `${label}: ids of ${JSON.stringify(s)}`);
          assert.equal(policy.tokenizer.decode(tok.encode(s), { skipSpecialTokens: true }), s, `${label}: decode`);
        }
      } finally {
        await policy.dispose();
      }
    }
    ck.model.dispose();
    q.dispose();
  },
);

test("teacher(): top-k and full distributions match distill.localTeacher; errors name the fix", { skip }, async () => {
  await setup();
  const ck = loadCheckpoint(path.join(CKPTS, "sortletters-teacher"), { trainable: false });
  const tok = ck.tokenizer!;
  const file = path.join(tmp, "teacher.gguf");
  saveGguf(file, ck.model, { tokenizer: tok });
  const policy = await LlamaCppPolicy.load(file, { tokenizer: tok });
  try {
    const recs = records("sort", 3, { seed: 2, split: "test", length: 6, symbols: "letters" });
    const prompts = recs.map((r) => tok.encode(r.prompt[0].content));
    const out = generate(ck.model, prompts, { seed: 1, maxNewTokens: 8, tokenizer: tok });
    const batch = batchOf(out.promptTokenIds, out.ids);
    const start = tf.memory().numTensors;
    const a = (await policy.teacher({ topK: 4 }).score(batch)) as {
      kind: "topk";
      ids: Int32Array;
      logprobs: Float32Array;
      K: number;
    };
    const b = (await localTeacher(ck.model, { topK: 4 }).score(batch)) as typeof a;
    assert.equal(a.kind, "topk");
    assert.equal(a.K, 4);
    const T = batch.ids[0].length;
    let d = 0;
    for (let i = 0; i < batch.ids.length; i++)
      for (let t = 1; t < T; t++) {
        if (!batch.responseMask[i][t]) continue; // a teacher fills the response positions (others may hold anything)
        const at = (i * T + t) * 4;
        assert.equal(a.ids[at], b.ids[at], `best teacher token at [${i}, ${t}]`);
        d = Math.max(d, Math.abs(a.logprobs[at] - b.logprobs[at]));
      }
    assert.ok(d < TOL, `top-1 teacher logprobs differ by ${d}`);
    const full = await policy.teacher({ topK: 0 }).score(batch);
    assert.equal(full.kind, "full");
    if (full.kind === "full") {
      assert.deepEqual(full.logprobs.shape, [3, T, 41]);
      full.logprobs.dispose();
    }
    assert.equal(tf.memory().numTensors, start, "no tensors left behind");
    await assert.rejects(policy.generate(prompts, { maxNewTokens: 1000 }), /exceeds the context/);
    await assert.rejects(policy.generate(prompts, { top_p: 0.9 } as never), /Use topP/);
    await assert.rejects(LlamaCppPolicy.load(path.join(tmp, "missing.gguf")), /is not a GGUF file/);
  } finally {
    await policy.dispose();
    ck.model.dispose();
  }
});
