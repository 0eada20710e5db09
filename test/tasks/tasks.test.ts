// Procedural tasks: deterministic generators, correct reference answers, documented alphabets, knob errors,
// and verifiers that resist the known hacks (hand-written cases).
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellrlError } from "../../lib/core/errors.js";
import { seed } from "../../lib/core/random.js";
import * as tasks from "../../lib/tasks/index.js";

const ALL = ["arith", "countdown", "sort", "reverse", "modular", "pair-sum", "derange"];
const KNOBS: Record<string, Record<string, unknown>[]> = {
  arith: [{}, { digits: 1 }, { digits: 5, terms: 3, ops: ["+", "-", "*"] }],
  countdown: [{}, { count: 4, maxNumber: 20, maxTarget: 500, ops: ["+", "-", "*", "/"] }],
  sort: [{}, { length: 12, symbols: "letters" }],
  reverse: [{}, { length: 1 }, { length: 20, symbols: "letters" }],
  modular: [{}, { ops: ["^"], maxOperand: 100, maxModulus: 97 }],
  "pair-sum": [{}, { maxTarget: 200, minValue: 0 }],
  derange: [{}, { length: 2 }, { length: 8 }],
};

test("generators are deterministic under a seed, and seed() replays the default stream", () => {
  for (const name of ALL) {
    assert.deepEqual(tasks.records(name, 20, { seed: 7 }), tasks.records(name, 20, { seed: 7 }), name);
    assert.notDeepEqual(tasks.records(name, 20, { seed: 7 }), tasks.records(name, 20, { seed: 8 }), name);
  }
  seed(5);
  const a = tasks.arith(10);
  seed(5);
  assert.deepEqual(tasks.arith(10), a);
});

test("records follow verl's schema; every reference answer verifies; prompts and answers stay in the alphabet", () => {
  for (const name of ALL) {
    const t = tasks.tasks.get(name);
    for (const knobs of KNOBS[name]) {
      const recs = tasks.records(name, 150, { seed: 1, split: "test", ...knobs });
      recs.forEach((r, i) => {
        assert.equal(r.data_source, `cellrl/${name}`);
        assert.deepEqual(
          [r.prompt.length, r.prompt[0].role, r.reward_model.style, r.extra_info!.split, r.extra_info!.index],
          [1, "user", "rule", "test", i],
        );
        const answer = String(r.extra_info!.answer);
        assert.equal(
          t.verify(answer, r.reward_model.ground_truth).score,
          1,
          `${name} ${r.prompt[0].content} ${answer}`,
        );
        for (const ch of r.prompt[0].content + answer)
          assert.ok(t.alphabet.includes(ch), `${name}: ${JSON.stringify(ch)} not in alphabet`);
      });
    }
  }
  assert.ok(tasks.alphabet().length <= 64); // a char-level vocab for every task fits 64 ids
  assert.equal(tasks.alphabet("arith"), "*+-0123456789=");
});

test("knobs are checked with errors that name the knob", () => {
  assert.throws(
    () => tasks.arith(1, { digits: 0 }),
    (e: unknown) => e instanceof CellrlError && /digits must be an integer in \[1, 15\]/.test(e.message),
  );
  assert.throws(() => tasks.arith(1, { digit: 3 } as never), /unknown option "digit"/);
  assert.throws(() => tasks.countdown(1, { ops: ["%"] } as never), /ops must be a non-empty list/);
  assert.throws(() => tasks.records("nope", 1), /unknown task "nope"/);
  assert.throws(() => tasks.arith(-1), /n must be a non-negative integer/);
});

test("unique and exclude give disjoint train / test sets", () => {
  const testSet = tasks.arith(50, { seed: 1, unique: true, split: "test" });
  const prompts = testSet.map((r) => r.prompt[0].content);
  assert.equal(new Set(prompts).size, 50);
  const train = tasks.arith(500, { seed: 2, exclude: prompts });
  assert.equal(train.filter((r) => prompts.includes(r.prompt[0].content)).length, 0);
  assert.throws(() => tasks.arith(200, { seed: 1, digits: 1, unique: true }), /only 100 distinct prompts/);
});

test("arith: canonical integers only, no credit for padding", () => {
  const v = (r: string, o = {}) => tasks.arith.verify(r, "46", o);
  assert.equal(v(" 46\n").score, 1);
  assert.equal(v("<answer>46</answer>").score, 1);
  for (const r of ["046", "46 46", "4 6", "", "+46", "46.0", "the answer is 46"]) assert.equal(v(r).score, 0, r);
  assert.equal(v("47", { partialWeight: 0.5 }).score, 0.25);
  assert.equal(v("4646464646", { partialWeight: 0.5 }).score, (0.5 * 2) / 10);
  assert.equal(tasks.arith.verify("-8", "-8").score, 1);
});

test("countdown: TinyZero's 0 / 0.1 / 1 with an exact evaluator", () => {
  const gt = { target: 56, numbers: [3, 5, 7] };
  const v = (r: string, g: unknown = gt, o = {}) => tasks.countdown.verify(r, g, o);
  assert.equal(v("(3+5)*7").score, 1);
  assert.equal(v("7 * (5 + 3)").score, 1);
  assert.equal(v("<think>hmm</think><answer>(5+3)*7</answer>").score, 1);
  const rule = (r: string, g: unknown = gt) => [v(r, g).score, v(r, g).details.rule];
  assert.deepEqual(rule(""), [0, "empty"]);
  assert.deepEqual(rule("56"), [0.1, "numbers-mismatch"]); // numbers must all be used
  assert.deepEqual(rule("(3+5)*7+0"), [0.1, "numbers-mismatch"]); // and no extra ones
  assert.deepEqual(rule("(3+3)*7"), [0.1, "numbers-mismatch"]); // nor reused
  assert.deepEqual(rule("3*5*7"), [0.1, "wrong-value"]);
  assert.deepEqual(rule("(3+5*7"), [0.1, "unparseable"]);
  assert.deepEqual(rule("require('fs')"), [0.1, "bad-characters"]); // never evaluated as code
  assert.deepEqual(rule("1/(1-1)+1", { target: 1, numbers: [1, 1, 1] }), [0.1, "unparseable"]); // division by zero
  assert.equal(v("6/4*8", { target: 12, numbers: [4, 6, 8] }).score, 1); // exact fractions: 6/4 = 3/2
  assert.equal(v("6/4", { target: 1, numbers: [4, 6] }).score, 0.1); // 1.5 is not 1
  assert.equal(v("3*5*7", gt, { formatScore: 0 }).score, 0);
  assert.equal(v("(3+5)*7", JSON.stringify(gt)).score, 1); // ground truth as a JSON string
});

test("sort / reverse / modular: exact, partial credit never rewards padding", () => {
  assert.equal(tasks.sort.verify("12359", "12359").score, 1);
  assert.equal(tasks.sort.verify("1235", "12359").score, 0);
  assert.equal(tasks.sort.verify("12358", "12359", { partialWeight: 0.5 }).score, 0.4);
  assert.equal(tasks.sort.verify("123599999", "12359", { partialWeight: 0.5 }).score, (0.5 * 5) / 9);
  assert.equal(tasks.reverse.verify("edcba", "edcba").score, 1);
  assert.equal(tasks.reverse.verify("abcde", "edcba").score, 0);
  const [m] = tasks.modular(1, { seed: 4 });
  const ans = String(m.extra_info!.answer);
  assert.equal(tasks.modular.verify(ans, m.reward_model.ground_truth).score, 1);
  assert.equal(
    tasks.modular.verify(String(Number(ans) + Number(m.extra_info!.modulus)), m.reward_model.ground_truth).score,
    0,
  ); // not reduced
});

test("pair-sum: every correct pair counts; countCorrect matches brute force", () => {
  const gt = { target: 12, minValue: 1 };
  for (const r of ["5+7", "7+5", "6+6", "1+11"]) assert.equal(tasks.pairSum.verify(r, gt).score, 1, r);
  for (const r of ["12+0", "0+12", "5+8", "05+7", "5+7+0", "12", "", "5 + 7", "-1+13"])
    assert.equal(tasks.pairSum.verify(r, gt).score, 0, r);
  for (const g of [gt, { target: 20, minValue: 0 }, { target: 7, minValue: 3 }]) {
    let brute = 0;
    for (let a = 0; a <= 25; a++) for (let b = 0; b <= 25; b++) brute += tasks.pairSum.verify(`${a}+${b}`, g).score;
    assert.equal(tasks.pairSum.countCorrect!(g), brute);
  }
  assert.deepEqual(tasks.distinctCorrect("pair-sum", ["3+9", "9+3", "3+9", "6+6", "2+2"], gt), {
    distinct: 3,
    correct: 4,
    total: 11,
  });
});

test("derange: no letter in place; countCorrect (!n) matches brute force over all permutations", () => {
  for (const r of ["badc", "bcda", "dcba", "cdab"]) assert.equal(tasks.derange.verify(r, "abcd").score, 1, r);
  for (const r of ["abcd", "bacd", "bcd", "bcdd", "bcdae", ""])
    assert.equal(tasks.derange.verify(r, "abcd").score, 0, r);
  const perms = (s: string): string[] =>
    s.length <= 1 ? [s] : [...s].flatMap((c, i) => perms(s.slice(0, i) + s.slice(i + 1)).map((p) => c + p));
  for (const word of ["ab", "abc", "abcd", "qwert", "zyxwvu"]) {
    const brute = perms(word).filter((p) => tasks.derange.verify(p, word).score === 1).length;
    assert.equal(tasks.derange.countCorrect!(word), brute, word);
  }
  assert.equal(tasks.distinctCorrect("derange", perms("abcd"), "abcd").distinct, 9);
});
