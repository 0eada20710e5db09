// Multiple-choice letter extraction: the last stated answer and its common spellings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractChoice, gpqaReward, multipleChoiceReward } from "../../lib/reward/multiple-choice.js";
import { CellrlError } from "../../lib/core/errors.js";

test("spellings of an answer statement", () => {
  const cases: [string, string][] = [
    ["Answer: B", "B"],
    ["answer: $C$", "C"],
    ["**Answer:** (D)", "D"],
    ["**Answer: E**", "E"],
    ["The answer is (F).", "F"],
    ["the correct answer is: **G**", "G"],
    ["Final Answer: \\boxed{H}", "H"],
    ["so it is $\\boxed{\\text{A}}$", "A"],
    ["\\boxed{(J)}", "J"],
    ["The closest option is (C).", "C"],
  ];
  for (const [text, letter] of cases) assert.equal(extractChoice(text).letter, letter, text);
});

test("the LAST statement counts (r1's gpqa.py takes the first: a bug for reasoning models)", () => {
  const r = "<think>Maybe Answer: A. No, recompute...</think>\nAnswer: C";
  assert.deepEqual([extractChoice(r).letter, extractChoice(r, { pick: "first" }).letter], ["C", "A"]);
  assert.equal(gpqaReward(r, "C").score, 1);
});

test("no false statements: lower-case articles, 'eliminate answer (I)', 'Option E is incorrect'", () => {
  assert.equal(extractChoice("The answer is a tricky one").letter, null);
  assert.equal(extractChoice("We can eliminate answer (I) because it is small.").letter, null);
  assert.equal(extractChoice("Option E is incorrect because r = 0.9.").letter, null);
  assert.equal(extractChoice("Answer: K", { letters: "ABCD" }).letter, null);
  assert.equal(extractChoice("Answer: E", { letters: "ABCD" }).letter, null);
});

test("opt-in fallbacks: last standalone letter, and cutting at a few-shot 'Question:'", () => {
  assert.equal(extractChoice("I would go with B here").letter, null);
  assert.equal(extractChoice("I would go with B here", { lastLetterFallback: true }).letter, "B");
  const fewShot = "The answer is (B)\n\nQuestion: next one...\nThe answer is (D)";
  assert.equal(extractChoice(fewShot, { stopAt: ["\nQuestion:"] }).letter, "B");
});

test("rewards: gold as a letter or an index; bad gold is a clear error", () => {
  assert.equal(multipleChoiceReward("Answer: (I)", "I").score, 1);
  assert.equal(multipleChoiceReward("Answer: (I)", 8).score, 1);
  assert.equal(multipleChoiceReward("Answer: H", "I").score, 0);
  assert.equal(multipleChoiceReward("no idea", "I").details.rule, "no-answer");
  assert.equal(gpqaReward("Answer: E", "A").details.rule, "no-answer"); // E is not a GPQA letter
  assert.throws(
    () => gpqaReward("Answer: A", "Z"),
    (e: unknown) => e instanceof CellrlError && /ground_truth/.test(e.message),
  );
});
