// Tasks with many correct answers, for diversity-seeking objectives (FlowRL): every correct answer scores 1 and
// countCorrect() says how many distinct ones exist, so a run can report the share it discovered.
import { defineTask } from "./define.js";
import { answerOf } from "./answer.js";
import { between, intKnob, rejectUnknown } from "./knobs.js";
import type { Verdict } from "./types.js";

/** Knobs of pair-sum. */
export interface PairSumOptions {
  /** Targets are drawn from 2*minValue..maxTarget. Defaults to 20. */
  maxTarget: number;
  /** Smallest allowed addend. Defaults to 1. */
  minValue: number;
}

/** Default knobs of pair-sum. */
export const pairSumDefaults: PairSumOptions = { maxTarget: 20, minValue: 1 };

function pairTruth(gt: unknown): { target: number; minValue: number } {
  const g = (typeof gt === "string" ? JSON.parse(gt) : gt) as { target: number; minValue: number };
  return { target: Number(g.target), minValue: Number(g.minValue ?? 1) };
}

/**
 * Give two numbers a+b that sum to N, each >= minValue ("sum 12=" -> "5+7"); N - 2·min + 1 ordered answers.
 * @example tasks.get("pair-sum").countCorrect!({target: 12, minValue: 1}) // 11
 */
export const pairSum = defineTask<PairSumOptions>({
  name: "pair-sum",
  dataSource: "cellrl/pair-sum",
  summary: "write a+b equal to the target (many correct answers)",
  alphabet: "0123456789+sum =",
  defaults: pairSumDefaults,
  resolve(o) {
    rejectUnknown("pair-sum", o, pairSumDefaults);
    const r = { ...pairSumDefaults, ...o };
    const minValue = intKnob("pair-sum", "minValue", r.minValue, 0, 1000);
    return { minValue, maxTarget: intKnob("pair-sum", "maxTarget", r.maxTarget, 2 * minValue, 1_000_000) };
  },
  generate(rng, o) {
    const target = between(rng, 2 * o.minValue, o.maxTarget);
    const a = between(rng, o.minValue, target - o.minValue);
    return {
      prompt: `sum ${target}=`,
      groundTruth: { target, minValue: o.minValue },
      answer: `${a}+${target - a}`,
      info: { maxTarget: o.maxTarget },
    };
  },
  verify(response, groundTruth): Verdict {
    const { target, minValue } = pairTruth(groundTruth);
    const ans = answerOf(response);
    const m = /^(0|[1-9]\d{0,8})\+(0|[1-9]\d{0,8})$/.exec(ans);
    if (!m) return { score: 0, details: { extracted: ans, rule: ans === "" ? "empty" : "format" } };
    const a = Number(m[1]),
      b = Number(m[2]);
    if (a < minValue || b < minValue) return { score: 0, details: { extracted: ans, rule: "below-min" } };
    return a + b === target
      ? { score: 1, details: { extracted: ans, rule: "correct" } }
      : { score: 0, details: { extracted: ans, rule: "wrong-sum" } };
  },
  countCorrect(gt) {
    const { target, minValue } = pairTruth(gt);
    return Math.max(0, target - 2 * minValue + 1);
  },
  canonical: (answer) => answerOf(answer),
});

/** Knobs of derange. */
export interface DerangeOptions {
  /** Number of distinct letters. Defaults to 4. */
  length: number;
}

/** Default knobs of derange. */
export const derangeDefaults: DerangeOptions = { length: 4 };

function subfactorial(n: number): number {
  let a = 1,
    b = 0; // !0 = 1, !1 = 0, !n = (n-1)(!(n-1) + !(n-2))
  if (n === 0) return 1;
  for (let k = 2; k <= n; k++) [a, b] = [b, (k - 1) * (a + b)];
  return b;
}

/**
 * Rearrange the letters so that none stays in its place ("der abcd=" -> "badc"); !n correct answers (9 for n = 4).
 * @example tasks.get("derange").countCorrect!("abcd") // 9
 */
export const derange = defineTask<DerangeOptions>({
  name: "derange",
  dataSource: "cellrl/derange",
  summary: "permute the letters with no letter left in place (many correct answers)",
  alphabet: "abcdefghijklmnopqrstuvwxyz der=",
  defaults: derangeDefaults,
  resolve(o) {
    rejectUnknown("derange", o, derangeDefaults);
    return { length: intKnob("derange", "length", { ...derangeDefaults, ...o }.length, 2, 12) };
  },
  generate(rng, o) {
    const letters = rng.shuffle([..."abcdefghijklmnopqrstuvwxyz"]).slice(0, o.length);
    const word = letters.join("");
    // A rotation by one is always a derangement of distinct letters.
    const answer = word.slice(1) + word[0];
    return { prompt: `der ${word}=`, groundTruth: word, answer, info: { length: o.length } };
  },
  verify(response, groundTruth): Verdict {
    const word = String(groundTruth);
    const ans = answerOf(response);
    if (ans === "") return { score: 0, details: { extracted: ans, rule: "empty" } };
    if (ans.length !== word.length || [...ans].sort().join("") !== [...word].sort().join(""))
      return { score: 0, details: { extracted: ans, rule: "not-a-permutation" } };
    const fixed = [...ans].filter((c, i) => c === word[i]).length;
    return fixed === 0
      ? { score: 1, details: { extracted: ans, rule: "correct" } }
      : { score: 0, details: { extracted: ans, rule: "fixed-points", fixed } };
  },
  countCorrect: (gt) => subfactorial(String(gt).length),
  canonical: (answer) => answerOf(answer),
});
