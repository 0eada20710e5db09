// Format and length shaping rewards, with hand-computed values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { r1FormatReward, tagCountReward, lastTag } from "../../lib/reward/format.js";
import { cosineLength, groupLengthReward, overlongReward, softOverlong } from "../../lib/reward/length.js";
import { CellrlError } from "../../lib/core/errors.js";
import "../../lib/reward/index.js"; // registers "math"

test("R1 format: one think block, non-empty reasoning, then an answer", () => {
  assert.equal(r1FormatReward("<think>2+2=4</think> The answer is 4").score, 1);
  assert.equal(r1FormatReward("2+2=4</think> 4").score, 1); // <think> prefilled by the chat template
  const rules = (r: string, o = {}) => r1FormatReward(r, undefined, undefined, o).details.rule;
  assert.equal(rules("The answer is 4"), "think-tags-not-once");
  assert.equal(rules("<think></think> 4"), "empty-think");
  assert.equal(rules("<think>x</think>   "), "no-answer-after-think");
  assert.equal(rules("<think>a</think><think>b</think> 4"), "think-tags-not-once");
  assert.equal(rules("hi <think>a</think> 4"), "text-before-think");
  assert.equal(rules("<think>a</think> <answer>4</answer>", { requireAnswerTag: true }), "ok");
  assert.equal(rules("<think>a</think> <answer>4</answer> more", { requireAnswerTag: true }), "text-outside-answer");
  assert.equal(rules("<think>a</think> <answer> </answer>", { requireAnswerTag: true }), "empty-answer");
});

test("tag count and answer tags", () => {
  assert.equal(tagCountReward("<think>x</think><answer>4</answer>").score, 1);
  assert.equal(tagCountReward("<think>x</think><think>").score, 0.25);
  assert.equal(lastTag("<answer>1</answer> <answer>2</answer>"), "2");
  assert.equal(lastTag("<answer>1"), null);
});

test("DAPO soft overlong punishment (L = 1024, C = 256)", () => {
  const o = { maxLength: 1024, buffer: 256 };
  assert.equal(softOverlong(768, o), 0);
  assert.equal(softOverlong(896, o), -0.5);
  assert.equal(softOverlong(1024, o), -1);
  assert.equal(softOverlong(5000, { ...o, penalty: 2 }), -2);
  assert.equal(overlongReward("x".repeat(896), undefined, undefined, o).score, -0.5);
  assert.equal(
    overlongReward("ab cd", undefined, undefined, { ...o, lengthOf: (r) => r.split(" ").length * 400 }).score,
    -0.125,
  ); // 2 "words" x 400 = 800
  assert.throws(() => softOverlong(10, { maxLength: 100, buffer: 200 }), CellrlError);
  assert.throws(() => softOverlong(NaN), CellrlError);
});

test("cosine length reward: short correct earns most, short wrong loses most", () => {
  const f = cosineLength({ reward: "math", maxLength: 100 });
  const at = (len: number, correct: boolean) =>
    (f(`\\boxed{${correct ? 4 : 5}}`.padEnd(len, " "), "4") as { score: number }).score;
  assert.ok(Math.abs(at(10, true) - (0.5 + 0.25 * (1 + Math.cos(0.1 * Math.PI)))) < 1e-12);
  assert.equal(at(100, true), 0.5);
  assert.ok(Math.abs(at(50, false) - -0.75) < 1e-12);
  assert.ok(at(10, false) < at(90, false));
});

test("Kimi group length reward", () => {
  assert.deepEqual(groupLengthReward([100, 200, 300], [true, true, false]), [0.5, 0, -0.5]);
  assert.deepEqual(groupLengthReward([100, 300], [false, true]), [0, -0.5]);
  assert.deepEqual(groupLengthReward([5, 5], [true, false]), [0, 0]);
  assert.throws(() => groupLengthReward([1], []), CellrlError);
});
