// Answer extraction and the "math" / "gsm8k" rewards on hand-written responses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boxedAnswers, extractAnswer } from "../../lib/reward/math/extract.js";
import { gsm8kReward, mathReward } from "../../lib/reward/math/reward.js";
import { gradeMath } from "../../lib/reward/math/grade.js";

test("the LAST \\boxed{} counts, with nested braces", () => {
  const r = extractAnswer("First \\boxed{1}. Then \\boxed{\\frac{\\sqrt{3}}{2}} is it.");
  assert.deepEqual([r.answer, r.rule, r.boxedCount], ["\\frac{\\sqrt{3}}{2}", "boxed", 2]);
});

test("\\boxed x, \\fbox{}, escaped braces inside a box", () => {
  assert.equal(extractAnswer("so $\\boxed 5$.").answer, "5");
  assert.equal(extractAnswer("so \\fbox{958} values").answer, "958");
  assert.equal(extractAnswer("\\boxed{\\{1, 2\\}}").answer, "\\{1, 2\\}");
  assert.equal(
    extractAnswer("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}").answer,
    "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
  );
  assert.deepEqual(
    boxedAnswers("\\boxed{a} x \\fbox{b}").map((b) => b.kind),
    ["boxed", "fbox"],
  );
  assert.equal(extractAnswer("\\boxed{unclosed").answer, null);
});

test("phrases: 'the answer is', 'Final Answer:', display math on the next line", () => {
  assert.equal(extractAnswer("Thus the answer is 42.").answer, "42");
  assert.equal(extractAnswer("**Final Answer:** $\\frac{1}{2}$\n").answer, "\\frac{1}{2}");
  assert.equal(extractAnswer("The answer is:\n\\[ \\frac{207}{64} \\]").answer, "\\frac{207}{64}");
  assert.equal(extractAnswer("answer is 3.5. Next we check").answer, "3.5");
  // The last phrase wins.
  assert.equal(extractAnswer("The answer is 1. Wait, no: the answer is 2.").answer, "2");
});

test("#### (GSM8K) and the opt-in last-number fallback", () => {
  assert.equal(extractAnswer("4 + 5 = 9\n#### 9").answer, "9");
  assert.equal(extractAnswer("so 1,234 apples").answer, null);
  const r = extractAnswer("so 1,234 apples", { rules: ["boxed", "last-number"] });
  assert.deepEqual([r.answer, r.rule], ["1234", "last-number"]);
});

test("math reward: 1 / 0, no-answer, wrong and DAPO-style scores", () => {
  assert.equal(mathReward("so $\\boxed{\\dfrac12}$", "0.5").score, 1);
  assert.equal(mathReward("so $\\boxed{3}$", "0.5").score, 0);
  const none = mathReward("I do not know", "0.5");
  assert.deepEqual([none.score, none.details.rule], [0, "no-answer"]);
  assert.equal(mathReward("\\boxed{3}", "4", undefined, { wrongScore: -1 }).score, -1);
  assert.equal(mathReward("so 17 apples", "17").score, 0); // no fallback by default
  assert.equal(mathReward("so 17 apples", "17", undefined, { lastNumberFallback: true }).score, 1);
});

test("several boxed answers: the last counts by default; 'reject' scores hedging as wrong", () => {
  const hedge = "It is \\boxed{12} or maybe \\boxed{13}";
  assert.equal(mathReward(hedge, "13").score, 1);
  assert.equal(mathReward(hedge, "12").score, 0);
  const rejected = mathReward(hedge, "13", undefined, { multipleBoxed: "reject" });
  assert.deepEqual([rejected.score, rejected.details.rule], [0, "conflicting-boxed"]);
  // The same answer boxed twice (think block, then final) is not a conflict.
  assert.equal(
    mathReward("<think>\\boxed{13}</think> \\boxed{13.0}", "13", undefined, { multipleBoxed: "reject" }).score,
    1,
  );
});

test("gsm8k reward: #### first, gold taken from a raw GSM8K answer", () => {
  const gold = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\nShe makes 9 * 2 = $<<9*2=18>>18.\n#### 18";
  assert.equal(gsm8kReward("... so she makes $18.\n#### 18", gold).score, 1);
  assert.equal(gsm8kReward("#### 1,800", "1800").score, 1);
  assert.equal(gsm8kReward("#### 17", gold).score, 0);
  assert.equal(gsm8kReward("\\boxed{18}", gold).score, 1);
});

test("boxes side by side are one answer; an empty box is skipped; a hedge is still the last box", () => {
  assert.equal(extractAnswer("The integers are \\boxed{-2} and \\boxed{1}.").answer, "-2, 1");
  assert.equal(extractAnswer("\\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]").answer, "-2, 1");
  assert.equal(extractAnswer("$\\boxed{1}\\boxed{2}$").answer, "1, 2");
  assert.equal(extractAnswer("so \\boxed{12}. (Put the final answer in \\boxed{}.)").answer, "12");
  assert.equal(extractAnswer("<think>\\boxed{13}</think> \\boxed{13}").answer, "13");
  assert.equal(extractAnswer("It is \\boxed{12} or maybe \\boxed{13}").answer, "13");
  assert.equal(extractAnswer("\\boxed{}").answer, null);
});

test("phrases: the value after the last ' is ', a lone number in words, math joined by 'and'", () => {
  assert.equal(extractAnswer("Final Answer: The volume of $ABCD$ is 120. I hope it is correct.").answer, "120");
  assert.equal(extractAnswer("Final Answer: Jane started growing Sphere 3 hours ago.").answer, "3");
  assert.equal(extractAnswer('Final Answer: The final answer is \\"$12 $ and $13 $\\". I hope').answer, "12, 13");
});

test("latex rule (Math-Verify's free-text reading): last math, or a later plain number, or the whole expression", () => {
  const latex = (t: string) => extractAnswer(t, { rules: ["latex", "last-number"] }).answer;
  assert.equal(latex("the pair is $(7, 6)$. <|im_start|>user"), "(7, 6)");
  assert.equal(latex("$x = 2$ so it increases by 100%."), "100\\%");
  assert.equal(latex("\\frac{10}{9}"), "\\frac{10}{9}");
  assert.equal(latex("so each is (\\frac{2}{5}) tons"), "\\frac{2}{5}");
  assert.equal(latex("the roots are $-2$ and $1$"), "-2, 1");
  assert.equal(latex("Answer $ \n 9 \n $"), "9"); // inline math never spans lines: only the plain number is left
  assert.equal(extractAnswer("Answer $ \n 9 \n $", { rules: ["latex"] }).answer, null);
  assert.equal(latex("28 pct"), "28\\%");
});

test("last-number: thousands separators, a decimal comma, never a digit glued to letters", () => {
  const num = (t: string) => extractAnswer(t, { rules: ["last-number"] }).answer;
  assert.equal(num("the total is 7,425,000 dollars"), "7425000");
  assert.equal(num("it is 1 000"), "1000");
  assert.equal(num("Soucis : 2,74 $ a.."), "2.74");
  assert.equal(num("0,111"), "0.111");
  assert.equal(num("AZYUK2A"), null);
});

test("a 'final answer' after the last box wins over it when phraseAfterBox is set (Math-Verify's rightmost match)", () => {
  const text =
    "so $\\boxed{200}$ and then $\\boxed{255}$. Final Answer: The final answer is $10,455$. I hope it is correct.";
  assert.equal(extractAnswer(text).answer, "255");
  assert.equal(extractAnswer(text, { phraseAfterBox: true }).answer, "10,455");
});

test("response mode stays linear on degenerate text (unclosed openers, thousands of boxes or phrases)", () => {
  const inputs = [
    "\\[".repeat(30000),
    "\\(a".repeat(30000),
    "\\(a".repeat(30000) + "\\)",
    "$".repeat(50000),
    "$a\n".repeat(30000),
    "answer: ".repeat(20000),
    "\\boxed{1} and ".repeat(20000),
    "$\\frac{1}{2}$ ".repeat(20000),
  ];
  for (const text of inputs) {
    const t0 = Date.now();
    gradeMath("7", text, { mode: "response" });
    assert.ok(Date.now() - t0 < 1000, `${JSON.stringify(text.slice(0, 12))}...: ${Date.now() - t0} ms`);
  }
});

test("multipleBoxed 'reject': one answer in several boxes is not a conflict; a box outside it that differs is", () => {
  const reject = { multipleBoxed: "reject" as const };
  assert.equal(mathReward("so $\\boxed{-2}$ and $\\boxed{1}$", "-2, 1", undefined, reject).score, 1);
  assert.equal(mathReward("first \\boxed{1}, then: \\boxed{1} and \\boxed{2}", "1, 2", undefined, reject).score, 1);
  const hedge = mathReward("maybe \\boxed{3}; final: \\boxed{1} and \\boxed{2}", "1, 2", undefined, reject);
  assert.deepEqual([hedge.score, hedge.details.rule], [0, "conflicting-boxed"]);
  assert.equal(mathReward("so $\\boxed{12}$ or $\\boxed{13}$", "13", undefined, reject).score, 0);
  assert.equal(mathReward("so \\boxed{12}. (Answer in \\boxed{}.)", "12", undefined, reject).score, 1);
});

test("a phrase that denies or hedges its number is not read as that number", () => {
  for (const text of [
    "The answer is not 13.",
    "The answer is about 13 apples.",
    "The answer is at least 13 cm",
    "The answer isn't 13",
  ])
    assert.equal(mathReward(text, "13").score, 0, text);
  assert.equal(mathReward("Final Answer: Jane started growing Sphere 13 hours ago.", "13").score, 1);
});
