// The math grader on real eval sets: MATH-500, GSM8K, AIME, AMC, OlympiadBench from the repo's datasets/ (always run),
// and the gold answers inside the 5000 hendrycks-math test solutions (not shipped: read from ../shared when present).
// Expectations come from the data itself (the dataset's own answer field).
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractAnswer } from "../../lib/reward/math/extract.js";
import { gradeMath } from "../../lib/reward/math/grade.js";
import { normalizeAnswer } from "../../lib/reward/math/normalize.js";
import { gsm8kReward, mathReward } from "../../lib/reward/math/reward.js";
import { structureOf } from "../../lib/reward/math/structure.js";
import { readJsonl } from "../../lib/data/jsonl.js";
import { needsShared, shared } from "../support/shared-data.js";
import { shipped } from "../support/shipped-data.js";

const HENDRYCKS = "data/hendrycks-math/math_test_5000.jsonl";
const needsHendrycks = needsShared(HENDRYCKS, "not shipped: datasets/ has MATH-500");
let goldsCache: string[] | undefined;
/** The last \boxed{} of each of the 5000 hendrycks-math test solutions (read once, only by tests that did not skip). */
const hendrycksGolds = (): string[] =>
  (goldsCache ??= readJsonl<{ solution: string }>(shared(HENDRYCKS)).map(
    (r) => extractAnswer(r.solution, { rules: ["boxed"] }).answer ?? "",
  ));

test("MATH-500: the last \\boxed{} of every solution grades equal to the answer field (500/500)", () => {
  const rows = shipped("math500_test.jsonl.gz");
  assert.equal(rows.length, 500);
  const bad = rows
    .filter((r) => !mathReward(r.extra_info!.solution as string, r.reward_model.ground_truth as string).score)
    .map((r) => r.extra_info!.unique_id);
  assert.deepEqual(bad, []);
});

test("hendrycks-math 5000: every solution has a boxed answer; all but 4 parse as math", needsHendrycks, () => {
  const golds = hendrycksGolds();
  assert.equal(golds.length, 5000);
  assert.equal(golds.filter((g) => g === "").length, 0);
  const unparsed = golds.filter((g) => structureOf(normalizeAnswer(g).text).t === "text");
  // A time with a.m./p.m., a chain of function values and a segment stay text (compared as strings): 9 a.m.,
  // 4:30 p.m., f(2) < f(1) < f(4), \overline{CD}. Ratios (3:1, 1:2, 1:1, 1:03 PM) are ratios, compared part by part.
  assert.equal(unparsed.length, 4, unparsed.join(" | "));
});

test(
  "hendrycks-math 5000: each gold equals itself in $...$, with \\dfrac, and boxed inside a sentence",
  needsHendrycks,
  () => {
    const golds = hendrycksGolds();
    const variants: ((s: string) => string)[] = [
      (s) => s,
      (s) => `$${s}$`,
      (s) => s.replace(/\\frac/g, "\\dfrac"),
      (s) => `So the final answer is $\\boxed{${s}}$.`,
    ];
    for (const v of variants) {
      const bad = golds.filter((g) => !gradeMath(g, v(g)).equal);
      assert.deepEqual(bad, [], v("G"));
    }
  },
);

test("hendrycks-math: golds of different problems are judged equal only when they really are", needsHendrycks, () => {
  const golds = hendrycksGolds();
  const equalPairs: string[] = [];
  let compared = 0;
  for (const shift of [211, 422, 633, 844, 1055]) {
    for (let i = 0; i < golds.length; i++) {
      const a = golds[i],
        b = golds[(i + shift) % golds.length];
      if (normalizeAnswer(a).compact === normalizeAnswer(b).compact) continue;
      compared++;
      if (gradeMath(a, b).equal) equalPairs.push(`${a} == ${b}`);
    }
  }
  assert.ok(compared > 20000);
  // Every pair found is the same number written two ways, or a documented policy (%, base subscripts, x = v).
  const allowed = [
    /^\\\$0\.50 == \\frac\{?1\}?\{?2\}?$/,
    /^0\.8 == \\frac\{4\}\{5\}$/,
    /^\\frac\{1\}\{5\} == \\frac15$/,
    /^\\frac\{?1\}?\{?2\}? == \\frac\{?1\}?\{?2\}?$/,
    /^\\frac\{?3\}?\{?2\}? == \\frac\{?3\}?\{?2\}?$/,
    /^b=0 == 0$/,
    /^8_9 == 8$/,
    /^x = \\frac\{3\}\{2\} == \\frac\{3\}\{2\}$/,
    /^100\\% == 1$/,
    /^1 == 100\\%$/,
    /^25\\% == 25_\{6\}$/,
  ];
  const unexplained = equalPairs.filter((p) => !allowed.some((re) => re.test(p)));
  assert.deepEqual(unexplained, []);
});

test("GSM8K test: the '#### n' of each reference solution grades equal to itself; a neighbour's does not", () => {
  // extra_info.solution is the reference answer text, "#### n" included
  const rows = shipped("gsm8k_test.jsonl.gz").map((r) => ({ answer: r.extra_info!.solution as string }));
  assert.equal(rows.length, 1319);
  let self = 0,
    cross = 0;
  rows.forEach((r, i) => {
    if (gsm8kReward(r.answer, r.answer).score === 1) self++;
    const other = rows[(i + 1) % rows.length].answer;
    const same = other.split("####")[1].trim() === r.answer.split("####")[1].trim();
    if (!same && gsm8kReward(other, r.answer).score === 1) cross++;
  });
  assert.deepEqual([self, cross], [1319, 0]);
});

test("AIME (string and int answers) and AMC (27.0-style floats)", () => {
  // Upstream types: Qwen's AIME 2024 answers are strings, AReaL's AIME 2025 ints, AMC floats (27.0, i.e. the number 27
  // in JS); the records store strings, so the numeric golds are turned back into numbers.
  const gold = (r: { reward_model: { ground_truth: unknown } }) => r.reward_model.ground_truth as string;
  const aime = [
    ...shipped("aime24_test.jsonl.gz").map((r) => ({ answer: gold(r) as string | number })),
    ...shipped("aime25_test.jsonl.gz").map((r) => ({ answer: Number(gold(r)) as string | number })),
  ];
  assert.equal(aime.length, 60);
  for (const r of aime) {
    assert.equal(mathReward(`... the answer is $\\boxed{${Number(r.answer)}}$`, r.answer).score, 1, String(r.answer));
    assert.equal(mathReward(`\\boxed{${Number(r.answer) + 1}}`, r.answer).score, 0);
    assert.equal(mathReward(`\\boxed{0${Number(r.answer)}}`, String(r.answer)).score, 1); // AIME writes 033 for 33
  }
  const amc = shipped("amc23_test.jsonl.gz").map((r) => ({ answer: Number(gold(r)) }));
  assert.equal(amc.length, 40);
  for (const r of amc) {
    assert.equal(gradeMath(r.answer, String(Math.round(r.answer))).equal, true);
    assert.equal(gradeMath(`${r.answer}.0`.replace(/\.0\.0$/, ".0"), String(r.answer)).equal, true); // "27.0" vs "27"
  }
});

test("OlympiadBench: list golds equal themselves and their reordering", () => {
  const rows = shipped("olympiadbench_test.jsonl.gz").map(
    (r) => r.extra_info as { final_answer: string[]; is_multiple_answer: boolean },
  );
  assert.equal(rows.length, 675);
  let reordered = 0;
  for (const r of rows) {
    assert.equal(gradeMath(r.final_answer, r.final_answer.join(", ")).equal, true, r.final_answer.join(" "));
    const parts = r.final_answer
      .join(",")
      .replace(/\$/g, "")
      .split(/,(?![^(]*\))/);
    if (r.is_multiple_answer && parts.length > 1 && !parts.some((p: string) => /[=\\{]/.test(p))) {
      reordered++;
      assert.equal(gradeMath(r.final_answer, [...parts].reverse().join(", ")).equal, true, parts.join(" | "));
    }
  }
  assert.ok(reordered >= 10);
});
