// The shipped datasets/: valid records, the counts and answers of their sources, reproducible by the script, and
// GPQA never present in plain text. Expected values below were read off the source files by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJsonl } from "../../lib/data/jsonl.js";
import { recordProblems } from "../../lib/data/validate.js";
import type { GeneratedRecord, VerlRecord } from "../../lib/data/record.js";
import { needsShared, repoRoot as ROOT, shared } from "../support/shared-data.js";

const DATASETS = path.join(ROOT, "datasets");
const manifest = JSON.parse(fs.readFileSync(path.join(DATASETS, "manifest.json"), "utf8")) as {
  file: string;
  records: number;
  responses: number;
  sha256: string;
}[];
const load = <R = VerlRecord>(file: string) => readJsonl<R>(path.join(DATASETS, file));

const COUNTS: Record<string, [records: number, responses: number]> = {
  "gsm8k_test.jsonl.gz": [1319, 0],
  "math500_test.jsonl.gz": [500, 0],
  "aime24_test.jsonl.gz": [30, 0],
  "aime25_test.jsonl.gz": [30, 0],
  "amc23_test.jsonl.gz": [40, 0],
  "olympiadbench_test.jsonl.gz": [675, 0],
  "gpqa_diamond_test.jsonl.gz": [198, 0],
  "humaneval_test.jsonl.gz": [164, 0],
  "mbpp.jsonl.gz": [974, 0],
  "code_contests_test.jsonl.gz": [165, 0],
  "qwen25_math_cot_100x8.jsonl.gz": [100, 800],
  "areal_math_10x16.jsonl.gz": [10, 160],
  "gsm8k_gpt3_solutions.jsonl.gz": [5276, 5276],
  "nemo_skills_math_50x3.jsonl.gz": [50, 150],
  "mmlu_pro_stem_300x4.jsonl.gz": [1200, 1200],
};

test("every shipped file is gzip, listed in the manifest with its sha256, and holds valid records", () => {
  assert.deepEqual(manifest.map((m) => m.file).sort(), Object.keys(COUNTS).sort());
  for (const m of manifest) {
    const bytes = fs.readFileSync(path.join(DATASETS, m.file));
    assert.equal(bytes[0], 0x1f, m.file);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), m.sha256, `${m.file}: rerun npm run make:datasets`);
    const rows = load<GeneratedRecord>(m.file);
    const withResponses = COUNTS[m.file][1] > 0;
    assert.deepEqual([rows.length, rows.reduce((s, r) => s + (r.responses?.length ?? 0), 0)], COUNTS[m.file], m.file);
    rows.forEach((r, i) =>
      assert.deepEqual(recordProblems(r, { require: withResponses ? ["responses"] : [] }), [], `${m.file} row ${i}`),
    );
  }
});

test("gold answers match the sources (GSM8K after ####, MATH-500, AIME, AMC, OlympiadBench lists)", () => {
  const gsm = load("gsm8k_test.jsonl.gz");
  assert.equal(gsm[0].reward_model.ground_truth, "18");
  assert.ok(
    gsm.every((r) => /^-?\d+(\.\d+)?$/.test(r.reward_model.ground_truth as string)),
    "GSM8K answers are plain numbers",
  );
  assert.equal(load("math500_test.jsonl.gz")[0].reward_model.ground_truth, "\\left( 3, \\frac{\\pi}{2} \\right)");
  assert.equal(load("aime24_test.jsonl.gz")[0].reward_model.ground_truth, "204");
  assert.equal(load("aime25_test.jsonl.gz")[0].reward_model.ground_truth, "70");
  // upstream stores AMC answers as JSON floats (27.0); all 40 are whole numbers and are written "27"
  assert.equal(load("amc23_test.jsonl.gz")[0].reward_model.ground_truth, "27");
  const ob = load("olympiadbench_test.jsonl.gz").find(
    (r) => JSON.stringify(r.extra_info?.final_answer) === '["$69$,$84$"]',
  );
  assert.equal(ob?.reward_model.ground_truth, "69,84");
  // r1 recipe: math questions verbatim, one user turn
  const aime = load("aime24_test.jsonl.gz")[0];
  assert.equal(aime.prompt.length, 1);
  assert.match(aime.prompt[0].content, /^Every morning Aya goes for a \$9\$-kilometer-long walk/);
});

test("code sets carry runnable tests as a JSON string; MBPP keeps its upstream split", () => {
  const he = load("humaneval_test.jsonl.gz");
  const gt = JSON.parse(he[0].reward_model.ground_truth as string);
  assert.equal(gt.entry_point, "has_close_elements");
  assert.match(gt.test, /def check\(candidate\):/);
  assert.match(he[0].prompt[0].content, /^You will be given a question \(problem specification\)/);
  assert.match(he[0].prompt[0].content, /```python\nfrom typing import List\n\n\ndef has_close_elements/);
  const mbpp = load("mbpp.jsonl.gz");
  const splits: Record<string, number> = {};
  for (const r of mbpp) splits[r.extra_info?.split as string] = (splits[r.extra_info?.split as string] ?? 0) + 1;
  assert.deepEqual(splits, { prompt: 10, test: 500, validation: 90, train: 374 });
  assert.deepEqual(JSON.parse(mbpp[11].reward_model.ground_truth as string).entry_point, "sort_matrix");
  const cc = JSON.parse(load("code_contests_test.jsonl.gz")[0].reward_model.ground_truth as string);
  assert.equal(cc.inputs.length, cc.outputs.length);
});

// The sources are compared with the shipped files (these two tests need them; everything else here runs from datasets/).
const QWEN_SRC = "data/qwen25-math-eval/math_cot_100_generations.jsonl";

test(
  "generation sets keep the upstream grader's labels next to the responses",
  needsShared(QWEN_SRC, "the source, compared with the shipped file"),
  () => {
    const qwen = load<GeneratedRecord>("qwen25_math_cot_100x8.jsonl.gz");
    const src = readJsonl<{ score: boolean[]; response: string[] }>(shared(QWEN_SRC));
    qwen.forEach((r, i) => {
      assert.deepEqual(r.extra_info?.upstream_scores, src[i].score.map(Number));
      assert.deepEqual(r.responses, src[i].response);
    });
    assert.equal(qwen[0].prompt[0].content, "Please reason step by step, and put your final answer within \\boxed{}.");
    const areal = load<GeneratedRecord>("areal_math_10x16.jsonl.gz");
    assert.equal(areal[0].reward_model.ground_truth, "4");
    assert.deepEqual((areal[0].extra_info?.upstream_scores as number[]).slice(0, 3), [0, 1, 1]);
    const mmlu = load<GeneratedRecord>("mmlu_pro_stem_300x4.jsonl.gz");
    assert.equal(mmlu[0].reward_model.ground_truth, "I");
    assert.match(
      mmlu[0].prompt[0].content,
      /\nI\. AlBr3   aluminum tribromide\nJ\. Zn\(NO3\)2   zinc nitrate\nAnswer: Let's think step by step\.$/,
    );
  },
);

test("the Qwen2.5-Math generations carry MATH's level and subject (hermetic: from the shipped file)", () => {
  const qwen = load<GeneratedRecord>("qwen25_math_cot_100x8.jsonl.gz");
  for (const r of qwen) {
    assert.match(String(r.extra_info?.level), /^Level [1-5]$/);
    assert.equal(
      r.extra_info?.subject,
      "Prealgebra",
      `record ${r.extra_info?.index}: subject joined from the MATH test split`,
    );
  }
});

test("GPQA items appear nowhere in plain text: only gzip bytes hold them", () => {
  const gpqa = load("gpqa_diamond_test.jsonl.gz");
  assert.ok(gpqa.every((r) => /^[ABCD]$/.test(r.reward_model.ground_truth as string)));
  assert.ok(gpqa.every((r) => r.prompt[0].content.startsWith("Answer the following multiple choice question.")));
  // a fragment of every question, searched for in every uncompressed file of the folders that could leak one
  const fragments = gpqa.map((r) => r.prompt[0].content.split("\n\n")[1].slice(0, 48)).filter((s) => s.length >= 24);
  assert.ok(fragments.length > 150);
  const leaks: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (fs.statSync(p).size < 20_000_000) {
        const bytes = fs.readFileSync(p);
        if (bytes[0] === 0x1f && bytes[1] === 0x8b) continue;
        const text = bytes.toString("utf8");
        for (const f of fragments) if (text.includes(f)) leaks.push(p);
      }
    }
  };
  for (const d of ["datasets", "test", "docs", "notebooks", "lib", "scripts"]) walk(path.join(ROOT, d));
  assert.deepEqual([...new Set(leaks)], []);
});

test(
  "npm run make:datasets reproduces the committed files byte for byte",
  needsShared("data", "the sources of every shipped file"),
  () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-datasets-"));
    try {
      execFileSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", "make-datasets.ts")], {
        cwd: ROOT,
        env: { ...process.env, CELLRL_DATASETS_OUT: out, CELLRL_SHARED_DATA: shared("data") },
        stdio: "pipe",
      });
      for (const m of manifest)
        assert.ok(fs.readFileSync(path.join(out, m.file)).equals(fs.readFileSync(path.join(DATASETS, m.file))), m.file);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
);
