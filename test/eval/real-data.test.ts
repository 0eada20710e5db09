// The shipped real generation sets re-scored through the eval path (readGenerations -> scoreRecords -> summarize ->
// upstreamAgreement), against the labels their own harnesses gave. The numbers are pinned; the Qwen2.5-Math one is
// the acceptance test: our accuracy within 1 point of upstream.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { evaluate } from "../../lib/eval/evaluate.js";
import { compareEvals } from "../../lib/eval/compare-evals.js";
import { upstreamRun } from "../../lib/eval/score-records.js";
import { datasetsDir } from "../../lib/eval/eval-sets.js";
import { passAtK } from "../../lib/eval/pass-at-k.js";

const set = (name: string) => path.join(datasetsDir, `${name}.jsonl.gz`);

test("Qwen2.5-Math 100 x 8: re-scored accuracy within 1 point of upstream (799/800 responses agree)", async () => {
  const run = await evaluate(set("qwen25_math_cot_100x8"));
  const a = run.agreement!;
  assert.ok(Math.abs(a.oursMean - a.upstreamMean) <= 0.01, `ours ${a.oursMean} vs upstream ${a.upstreamMean}`);
  assert.equal(a.upstreamMean, 728 / 800, "upstream: 728 of 800 labelled correct");
  assert.equal(a.oursMean, 729 / 800);
  assert.deepEqual([a.agree, a.responses], [799, 800]);
  // the one disagreement: gold 10{,}000, response \boxed{10000}; Qwen's normaliser keeps the {,} separator
  assert.deepEqual(
    a.disagreements.map((d) => [d.id, d.sample, d.gold, d.extracted, d.ours, d.upstream]),
    [["lighteval/MATH#72", 7, "10{,}000", "10000", 1, 0]],
  );
  const row = run.summary.rows[0];
  assert.deepEqual(
    [row.data_source, row.items, row.n, row.noAnswer, row.errors, row.truncated],
    ["lighteval/MATH", 100, 8, 0, 0, null],
  );
  // pass@8 = items with any correct sample; pass@k from the per-item counts by the estimator
  const counts = run.difficulty.items.map((it) => it.c);
  assert.equal(row.passAtK[8], counts.filter((c) => c > 0).length / 100);
  assert.equal(row.passAtK[8], 0.97);
  assert.ok(Math.abs(row.passAtK[4] - counts.reduce((s, c) => s + passAtK(8, c, 4), 0) / 100) < 1e-12);
  assert.deepEqual(run.difficulty.byCorrect, [3, 2, 1, 2, 3, 0, 2, 1, 86]);
  assert.deepEqual(
    run.breakdowns.map((b) => b.by),
    ["extra_info.level"],
  );
  assert.deepEqual(
    run.breakdowns[0].rows.map((r) => [r.data_source, r.items]),
    [
      ["Level 1", 11],
      ["Level 2", 16],
      ["Level 3", 24],
      ["Level 4", 24],
      ["Level 5", 25],
    ],
  );
  // our grader against theirs as two runs: one item (72) moves from 0/8... to 1/8 and no item flips at the 0.5 bar
  const cmp = compareEvals(run.records, upstreamRun(run.records), { labels: ["cellrl", "Qwen grader"] });
  assert.deepEqual([cmp.onlyA, cmp.onlyB, cmp.mcnemarP], [0, 0, 1]);
  assert.equal(cmp.sampleAgreement, 799 / 800);
  // k = 4: the first four samples of each problem
  const k4 = await evaluate(set("qwen25_math_cot_100x8"), { k: 4 });
  assert.equal(k4.summary.rows[0].n, 4);
  assert.equal(k4.agreement?.responses, 400);
});

test("AReaL, NeMo-Skills, GSM8K GPT-3 and MMLU-Pro generations: agreement with their labels is pinned", async () => {
  const areal = (await evaluate(set("areal_math_10x16"))).agreement!;
  assert.deepEqual([areal.agree, areal.responses, areal.oursMean], [160, 160, 83 / 160]);
  const nemo = (await evaluate(set("nemo_skills_math_50x3"))).agreement!;
  assert.deepEqual([nemo.agree, nemo.responses, nemo.oursOnly, nemo.upstreamOnly], [144, 150, 6, 0]);
  // docs/rewards.md lists each: a unit, an \fbox, an unboxed final line, a predicted equation's right side, two empty boxes
  assert.deepEqual(nemo.disagreements.map((d) => d.id).sort(), [
    "lighteval/MATH#train/algebra/2027.json",
    "lighteval/MATH#train/algebra/2142.json",
    "lighteval/MATH#train/algebra/635.json",
    "lighteval/MATH#train/number_theory/7086.json",
    "lighteval/MATH#train/number_theory/918.json",
    "lighteval/MATH#train/prealgebra/737.json",
  ]);
  const gsm = await evaluate(set("gsm8k_gpt3_solutions"), { rewardOptions: { rules: ["gsm8k", "last-number"] } });
  assert.deepEqual([gsm.agreement!.agree, gsm.agreement!.responses], [5276, 5276]);
  assert.deepEqual(
    gsm.breakdowns.map((b) => b.by),
    ["extra_info.model"],
  );
  assert.equal(gsm.breakdowns[0].rows.length, 4);
  const mmlu = (await evaluate(set("mmlu_pro_stem_300x4"))).agreement!;
  // scores (not extracted letters) disagree on 11 responses: 3 only we call correct, 8 only upstream (its random-guess
  // and last-letter fallbacks hit): 493 vs 498 of 1200
  assert.deepEqual([mmlu.agree, mmlu.responses, mmlu.oursOnly, mmlu.upstreamOnly], [1189, 1200, 3, 8]);
  assert.ok(Math.abs(mmlu.upstreamMean - 0.415) < 1e-12);
});
