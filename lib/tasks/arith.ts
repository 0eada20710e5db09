// Multi-digit arithmetic: "37+45=" -> "82". Knobs: digits per operand, number of terms, operators.
import { defineTask } from "./define.js";
import { canonicalInt, answerOf, exactVerdict } from "./answer.js";
import { choiceKnob, intKnob, rejectUnknown, withDigits } from "./knobs.js";
import type { Verdict } from "./types.js";

/** Knobs of the arith task. */
export interface ArithOptions {
  /** Digits of each operand (1 = 0..9). Defaults to 2. */
  digits: number;
  /** Number of operands. Defaults to 2. */
  terms: number;
  /** Operators drawn uniformly between operands. Defaults to ["+"]. */
  ops: ("+" | "-" | "*")[];
}

/** Default knobs of arith. */
export const arithDefaults: ArithOptions = { digits: 2, terms: 2, ops: ["+"] };

const OPS = ["+", "-", "*"] as const;

function evalLeftToRight(nums: bigint[], ops: string[]): bigint {
  // Usual precedence: multiply first, then add/subtract left to right.
  const vals: bigint[] = [nums[0]];
  const signs: string[] = [];
  ops.forEach((op, i) => {
    if (op === "*") vals[vals.length - 1] *= nums[i + 1];
    else {
      signs.push(op);
      vals.push(nums[i + 1]);
    }
  });
  return vals.slice(1).reduce((acc, v, i) => (signs[i] === "+" ? acc + v : acc - v), vals[0]);
}

/**
 * Arithmetic with operator precedence; the answer is the canonical integer ("-8", never "008").
 * @example tasks.records("arith", 2, {seed: 0, digits: 3, ops: ["+", "*"]})
 */
export const arith = defineTask<ArithOptions>({
  name: "arith",
  dataSource: "cellrl/arith",
  summary: "evaluate a+b (or -, *) over k-digit operands; answer the integer",
  alphabet: "0123456789+-*=",
  defaults: arithDefaults,
  resolve(o) {
    rejectUnknown("arith", o, arithDefaults);
    const r = { ...arithDefaults, ...o };
    return {
      digits: intKnob("arith", "digits", r.digits, 1, 15),
      terms: intKnob("arith", "terms", r.terms, 2, 8),
      ops: choiceKnob("arith", "ops", r.ops, OPS),
    };
  },
  generate(rng, o) {
    const nums = Array.from({ length: o.terms }, () => BigInt(withDigits(rng, o.digits)));
    const ops = Array.from({ length: o.terms - 1 }, () => o.ops[rng.int(o.ops.length)]);
    const prompt = nums.map((n, i) => (i === 0 ? "" : ops[i - 1]) + n.toString()).join("") + "=";
    const answer = evalLeftToRight(nums, ops).toString();
    return { prompt, groundTruth: answer, answer, info: { digits: o.digits, terms: o.terms } };
  },
  // options.partialWeight > 0 gives that weight times the fraction of digits right (aligned at the units) to wrong
  // answers.
  verify(response, groundTruth, options = {}): Verdict {
    const gold = String(groundTruth);
    const pred = answerOf(response);
    const v = exactVerdict(gold, pred, Number(options.partialWeight ?? 0), "right");
    if (v.score < 1 && pred !== "" && canonicalInt(pred) === null)
      v.details.rule = v.score > 0 ? "partial" : "not-an-integer";
    return v;
  },
});
