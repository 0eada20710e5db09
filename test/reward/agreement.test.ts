// Pins the agreement of our graders with upstream graders on real labelled generations; every disagreement is
// listed by id and justified in docs/rewards.md ("Agreement with upstream graders").
import { test } from "node:test";
import assert from "node:assert/strict";
import { areal, gsm8kSolutions, mmluPro, nemo, qwen } from "./agreement.js";

test("Qwen2.5-Math 800 responses: 799 agree; the one disagreement is upstream failing on the gold 10{,}000", () => {
  const a = qwen();
  assert.equal(a.total, 800);
  assert.equal(a.agree, 799);
  assert.deepEqual(
    a.disagreements.map((d) => [d.id, d.gold, d.extracted, d.ours]),
    [["72/7", "10{,}000", "10000", true]],
  );
});

test("NeMo-Skills 150 generations: 144 agree; 6 disagreements are policies (units, equations, empty boxes) and answers NeMo did not extract", () => {
  const a = nemo();
  assert.equal(a.total, 150);
  assert.deepEqual(
    a.disagreements.map((d) => [d.id, d.extracted, d.ours]),
    [
      ["train/prealgebra/737.json/seed0", "1320 km", true], // units are stripped (policy)
      ["train/algebra/2027.json/seed0", "(x+y)^2=81", true], // a predicted equation's right side is the answer (as Math-Verify)
      ["train/number_theory/7086.json/seed1", "958", true], // \fbox{958}: NeMo extracts \boxed only
      ["train/algebra/635.json/seed2", "1", true], // \boxed{1}, then an echoed prompt "(... in \boxed{}.)": empty boxes are skipped
      ["train/algebra/2142.json/seed2", "\\frac{207}{64}", true], // no \boxed at all: "the answer is:\n\[ \frac{207}{64} \]"
      ["train/number_theory/918.json/seed2", "5", true], // \boxed{5}, then an echoed instruction "... inside \boxed{}"
    ],
  );
});

test("AReaL 160 response tails: full agreement", () => {
  const a = areal();
  assert.equal(a.total, 160);
  assert.equal(a.agree, 160);
});

test("GSM8K 4 x 1319 GPT-3 solutions: full agreement with is_correct (last-number fallback for 'A: n')", () => {
  const a = gsm8kSolutions();
  assert.equal(a.total, 5276);
  assert.equal(a.agree, 5276);
});

test("MMLU-Pro 1200 outputs: 1104 agree with pred; every disagreement falls in a documented category", () => {
  const a = mmluPro();
  assert.equal(a.total, 1200);
  assert.equal(a.agree, 1104);
  assert.deepEqual(a.categories, {
    "upstream-guess-no-letter-in-text": 42, // upstream random guess; no letter in a truncated generation
    "upstream-last-letter-fallback": 25, // upstream's last-standalone-letter regex; ours is opt-in
    "upstream-none-ours-letter": 24, // "The closest option is (J)", "Answer: B." that pred missed
    "different-letters": 5, // gemini lists six "The answer is (X)" lines; upstream takes the first, we the last
  });
});
